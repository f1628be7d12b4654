// grove serve over TLS (--tls-cert, --tls-key), through the real binaries
// and a throwaway CA from scripts/make-test-ca.sh: grove submit streams a job
// over wss:// with --cacert; a client that does not trust the CA (the system
// store, or another CA) fails with a certificate error; a plain ws:// client
// is told to use wss://; the dashboard loads and goes live over HTTPS and WSS
// in headless chromium; a key that does not match its certificate, or half
// the pair, is a clear usage error; an open port without TLS warns.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "app/browser_support.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const std::string grove_bin = GROVE_BINARY;
const std::string source_dir = GROVE_SOURCE_DIR;

class tls_serve : public ::testing::Test {
protected:
  void SetUp() override {
    auto made = grove::test::run("'" + source_dir + "/scripts/make-test-ca.sh' '" + certs().string() +
                                 "' server >/dev/null && '" + source_dir + "/scripts/make-test-ca.sh' '" +
                                 certs().string() + "' --ca rogue impostor >/dev/null");
    ASSERT_EQ(made.status, 0) << made.out;
  }
  std::filesystem::path certs() const { return dir.path() / "certs"; }
  std::string cert(const std::string& name) const { return (certs() / name).string(); }

  void start(const std::string& extra = {}) {
    serve = std::make_unique<grove::test::child_process>(
      "cd '" + dir.path().string() + "' && exec '" + grove_bin + "' serve --repo ws --port 0 --tls-cert '" +
      cert("server.pem") + "' --tls-key '" + cert("server.key") + "' " + extra + " 2> serve.log");
    port = grove::test::wait_for_number_after(dir.path() / "serve.log", "https://127.0.0.1:", 15s);
    ASSERT_FALSE(port.empty()) << grove::test::read_file(dir.path() / "serve.log");
  }
  grove::test::command_result submit(const std::string& scheme, const std::string& flags) {
    return grove::test::run("'" + grove_bin + "' submit 'a navbar and a footer' --url " + scheme + "://127.0.0.1:" +
                            port + " " + flags + " --json 2>'" + (dir.path() / "submit.log").string() + "'");
  }
  std::string submit_log() const { return grove::test::read_file(dir.path() / "submit.log"); }

  grove::test::temp_dir dir;
  std::unique_ptr<grove::test::child_process> serve;
  std::string port;
};

} // namespace

TEST_F(tls_serve, submit_over_wss_with_the_ca_streams_a_job_and_untrusted_clients_fail) {
  start();
  EXPECT_NE(grove::test::read_file(dir.path() / "serve.log").find("wss://127.0.0.1:" + port + "/ws"),
            std::string::npos);
  auto ok = submit("wss", "--cacert '" + cert("ca.pem") + "'");
  ASSERT_EQ(ok.status, 0) << ok.out << submit_log();
  auto report = json::parse(ok.out);
  EXPECT_EQ(report["status"], "done");
  EXPECT_EQ(report["components"].size(), 2u);
  EXPECT_NE(submit_log().find("navbar"), std::string::npos) << "progress streamed: " << submit_log();

  // The system's store does not know the throwaway CA; another CA is no better.
  for (auto& flags : {std::string{}, "--cacert '" + cert("rogue.pem") + "'"}) {
    auto refused = submit("wss", flags);
    EXPECT_EQ(refused.status, 2) << flags;
    EXPECT_NE(submit_log().find("certificate verify failed"), std::string::npos) << flags << ": " << submit_log();
    EXPECT_TRUE(ok.out.find("\"job\"") != std::string::npos);
  }
  // A plain client on the TLS port gets no page and is pointed at wss://.
  auto plain = submit("ws", "");
  EXPECT_EQ(plain.status, 2);
  EXPECT_NE(submit_log().find("use wss://"), std::string::npos) << submit_log();
  // A CA file that cannot be read is named.
  auto missing = submit("wss", "--cacert '" + (dir.path() / "nope.pem").string() + "'");
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(submit_log().find("cannot read the CA file"), std::string::npos) << submit_log();
  serve->signal(SIGTERM);
  EXPECT_EQ(serve->wait(30s), 0);
  grove::test::expect_clean_repository(dir.path() / "ws");
}

TEST_F(tls_serve, the_dashboard_loads_and_goes_live_over_https_in_headless_chromium) {
  start();
  // chromium does not know the throwaway CA: it is told to accept this server's certificate.
  grove::test::browser chrome{dir.path(), "https://127.0.0.1:" + port + "/", port, "--ignore-certificate-errors"};
  ASSERT_TRUE(chrome.ok()) << chrome.why;
  EXPECT_EQ(chrome.wait_for("location.protocol", "https:", 10s), "https:");
  EXPECT_EQ(chrome.wait_for("document.getElementById('conn').textContent", "live", 15s), "live")
    << "the dashboard's WebSocket is wss:// on the same port";
  EXPECT_EQ(chrome.wait_for("String(Array.from(document.styleSheets).some(s => { try { return s.cssRules.length > 0; "
                            "} catch (e) { return false; } }))",
                            "true", 5s),
            "true");
  // A job submitted over wss appears in the page.
  auto ok = submit("wss", "--cacert '" + cert("ca.pem") + "'");
  ASSERT_EQ(ok.status, 0) << submit_log();
  auto job = json::parse(ok.out)["job"].get<std::string>();
  EXPECT_EQ(chrome.wait_for("(() => { const e = document.querySelector('tr[data-job=\"" + job +
                              "\"] .state'); return e ? e.textContent : ''; })()",
                            "done", 15s),
            "done");
  EXPECT_GT(chrome.screenshot("dashboard-https.png"), 1000u);
  serve->signal(SIGTERM);
  EXPECT_EQ(serve->wait(30s), 0);
}

TEST_F(tls_serve, a_wrong_or_half_key_pair_is_a_usage_error_and_an_open_port_without_tls_warns) {
  auto run = [&](const std::string& args) {
    return grove::test::run("cd '" + dir.path().string() + "' && timeout 20 '" + grove_bin + "' serve --repo ws " +
                            args + " 2>&1");
  };
  auto half = run("--port 0 --tls-cert '" + cert("server.pem") + "'");
  EXPECT_EQ(half.status, 2) << half.out;
  EXPECT_NE(half.out.find("--tls-cert and --tls-key together"), std::string::npos) << half.out;
  auto mismatch = run("--port 0 --tls-cert '" + cert("server.pem") + "' --tls-key '" + cert("impostor.key") + "'");
  EXPECT_EQ(mismatch.status, 2) << mismatch.out;
  EXPECT_NE(mismatch.out.find("does not match the certificate"), std::string::npos) << mismatch.out;
  auto missing = run("--port 0 --tls-cert '" + cert("nope.pem") + "' --tls-key '" + cert("server.key") + "'");
  EXPECT_EQ(missing.status, 2) << missing.out;
  EXPECT_NE(missing.out.find("cannot load the TLS certificate"), std::string::npos) << missing.out;
  // 127.0.0.2 is loopback to the kernel but not to grove's check: it stands for a network address.
  grove::test::child_process open{"cd '" + dir.path().string() + "' && exec '" + grove_bin +
                                  "' serve --repo ws --host 127.0.0.2 --port 0 2> open.log"};
  auto p = grove::test::wait_for_number_after(dir.path() / "open.log", "http://127.0.0.2:", 15s);
  ASSERT_FALSE(p.empty()) << grove::test::read_file(dir.path() / "open.log");
  EXPECT_NE(grove::test::read_file(dir.path() / "open.log").find("without TLS and without a token"), std::string::npos)
    << grove::test::read_file(dir.path() / "open.log");
  open.signal(SIGTERM);
  EXPECT_EQ(open.wait(30s), 0);
}
