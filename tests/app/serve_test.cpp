// grove serve as a real process: grove submit against it, graceful shutdown
// on SIGTERM with a job in flight, and the dashboard in a real headless
// chromium driven over the DevTools protocol.

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "fakes/fake_llm_server.hpp"
#include "infra/http/ws_client.hpp"
#include "app/browser_support.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const std::string grove_bin = GROVE_BINARY;

// A competent OpenAI-compatible model that takes `delay` per answer.
grove::test::fake_handler slow_model(std::chrono::milliseconds delay) {
  return [delay](const grove::test::fake_request& req, int) {
    auto r = grove::test::reply(
      200, grove::test::openai_body(grove::test::competent_answer(grove::test::prompt_of("openai", req.body))));
    r.delay = delay;
    return r;
  };
}

class serve_process : public ::testing::Test {
protected:
  void start(const std::string& extra = {}) {
    grove::test::write_file(dir.path() / "grove.json",
                            R"({"providers": {"m": {"type": "openai", "model": "slow", "base_url": ")" +
                              model.url("/v1") + R"(", "max_concurrency": 8}},
                                                          "routes": {"default": ["m"]}})");
    serve = std::make_unique<grove::test::child_process>("cd '" + dir.path().string() + "' && exec '" + grove_bin +
                                                         "' serve --repo ws --port 0 --config grove.json " + extra +
                                                         " 2> serve.log");
    port = grove::test::wait_for_number_after(dir.path() / "serve.log", "http://127.0.0.1:", 15s);
    ASSERT_FALSE(port.empty()) << grove::test::read_file(dir.path() / "serve.log");
  }

  std::string url(const std::string& path) const { return "http://127.0.0.1:" + port + path; }

  // Polls /api/jobs until `pred` holds for some job; returns that job's JSON.
  json wait_job(const std::function<bool(const json&)>& pred, std::chrono::seconds timeout = 30s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto r = grove::http::http_get(url("/api/jobs")); r && r->status == 200) {
        for (auto& j : json::parse(r->body)) {
          if (pred(j)) return j;
        }
      }
      std::this_thread::sleep_for(50ms);
    }
    return json{};
  }

  grove::test::temp_dir dir;
  grove::test::fake_llm_server model{slow_model(150ms)};
  std::unique_ptr<grove::test::child_process> serve;
  std::string port;
};

} // namespace

TEST_F(serve_process, submit_streams_a_job_and_sigterm_drains_it) {
  start();
  // Submit through the real client, in the background, while we watch the server.
  grove::test::command_result submitted;
  std::thread client{[&] {
    submitted = grove::test::run(
      "'" + grove_bin + "' submit 'a navbar, a hero, cards, a sidebar, a modal and a footer' --url ws://127.0.0.1:" +
      port + " --json 2>'" + (dir.path() / "submit.log").string() + "'");
  }};
  auto running = wait_job([](const json& j) { return j["state"] == "running"; });
  ASSERT_FALSE(running.is_null()) << "no job reached running";
  serve->signal(SIGTERM); // mid-job: the server stops taking work but finishes this job
  client.join();
  EXPECT_EQ(submitted.status, 0) << submitted.out << grove::test::read_file(dir.path() / "submit.log");
  auto report = json::parse(submitted.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << submitted.out;
  EXPECT_EQ(report["status"], "done");
  EXPECT_EQ(report["job"], running["job"]);
  EXPECT_EQ(serve->wait(30s), 0);
  auto log = grove::test::read_file(dir.path() / "serve.log");
  EXPECT_NE(log.find("SIGTERM"), std::string::npos) << log;
  EXPECT_NE(log.find("stopped cleanly"), std::string::npos) << log;
  EXPECT_NE(grove::test::read_file(dir.path() / "submit.log").find("landed"), std::string::npos);
  grove::test::expect_clean_repository(dir.path() / "ws");
}

TEST_F(serve_process, sigterm_cancels_what_outlives_the_drain_window) {
  start("--drain-seconds 0");
  auto c = grove::http::ws_client::connect("ws://127.0.0.1:" + port + "/ws", "");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_TRUE((*c)->send_text(
    R"({"type":"build","request":"navbar, hero, cards, sidebar, modal, footer, pricing, contact, search"})"));
  ASSERT_FALSE(wait_job([](const json& j) { return j["state"] == "running"; }).is_null());
  serve->signal(SIGINT);
  json result;
  for (;;) {
    auto text = (*c)->read(30s);
    if (!text) break;
    auto f = json::parse(*text);
    if (f["type"] == "result") {
      result = f;
      break;
    }
  }
  ASSERT_FALSE(result.is_null());
  EXPECT_EQ(result["report"]["status"], "cancelled");
  EXPECT_EQ(serve->wait(30s), 0);
  grove::test::expect_clean_repository(dir.path() / "ws");
}

class dashboard : public serve_process {
protected:
  // Opens the dashboard in a real headless chromium (with `?token=` when a
  // token is set: the page, its script and its styles must all load), starts
  // a job beside it and watches the row reach done.
  void shows_a_job_done(const std::string& token) {
    start(token.empty() ? "" : "--token " + token);
    auto page_url = url(token.empty() ? "/" : "/?token=" + token);
    grove::test::browser chrome{dir.path(), page_url, port};
    ASSERT_TRUE(chrome.ok()) << chrome.why;
    auto& dt = chrome.page();
    // Wait for the dashboard's WebSocket to be live, then start a job while it watches.
    std::string conn;
    for (int i = 0; i < 100 && conn != "live"; ++i) {
      conn = dt.eval("document.getElementById('conn').textContent");
      if (conn != "live") std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(conn, "live");
    // The stylesheet loaded and applied (with a token it needs the session cookie).
    EXPECT_EQ(dt.eval("String(Array.from(document.styleSheets).some(s => { try { return s.cssRules.length > 0; } catch "
                      "(e) { return false; } }))"),
              "true");
    auto c = grove::http::ws_client::connect("ws://127.0.0.1:" + port + "/ws", token);
    ASSERT_TRUE(c);
    ASSERT_TRUE((*c)->send_text(R"({"type":"build","request":"대시보드 페이지와 로그인 폼 만들어줘"})"));
    auto accepted = json::parse(*(*c)->read(10s));
    ASSERT_EQ(accepted["type"], "accepted");
    auto job = accepted["job"].get<std::string>();
    auto state_of = "(() => { const e = document.querySelector('tr[data-job=\"" + job +
                    "\"] .state'); return e ? e.textContent : ''; })()";
    std::vector<std::string> seen;
    std::string state;
    for (int i = 0; i < 300 && state != "done"; ++i) {
      state = dt.eval(state_of);
      if (seen.empty() || seen.back() != state) seen.push_back(state);
      if (state != "done") std::this_thread::sleep_for(100ms);
    }
    std::string trail;
    for (auto& s : seen) trail += "[" + s + "]";
    EXPECT_EQ(state, "done") << "states seen: " << trail;
    EXPECT_GE(seen.size(), 2u) << "the row was seen live before it was done: " << trail;
    EXPECT_EQ(dt.eval("String(document.querySelectorAll('tr.comp').length)"), "2");
    // The link follows the result frame, which may come just after the row says done.
    std::string link;
    for (int i = 0; i < 50 && link != "link"; ++i) {
      link = dt.eval("document.querySelector('tr[data-job=\"" + job + "\"] a') ? 'link' : ''");
      if (link != "link") std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(link, "link") << "the page is linked";
    // The Korean request is in the row and readable: drawn in the row's own font, two different
    // syllables give different pictures, and neither is the box a font-less character gets (U+E000).
    EXPECT_EQ(dt.eval("document.querySelector('tr[data-job=\"" + job + "\"] .req').textContent"),
              "대시보드 페이지와 로그인 폼 만들어줘");
    auto glyph = [&](const std::string& ch) {
      return dt.eval("(() => { const font = getComputedStyle(document.querySelector('tr[data-job=\"" + job +
                     "\"] .req')).font; const c = document.createElement('canvas'); c.width = 64; c.height = 64; "
                     "const g = c.getContext('2d'); g.font = font.replace(/\\d+(\\.\\d+)?px/, '40px'); "
                     "g.fillText('" + ch + "', 4, 48); return c.toDataURL(); })()");
    };
    auto dae = glyph("대"), si = glyph("시"), box = glyph("\\uE000");
    EXPECT_FALSE(dae.empty());
    EXPECT_NE(dae, si) << "Korean renders as identical boxes: no CJK font (scripts/setup.sh --tests installs fonts-noto-cjk)";
    EXPECT_NE(dae, box) << "Korean renders as the missing-glyph box";
    // Keep a screenshot as a test artefact.
    EXPECT_GT(chrome.screenshot(token.empty() ? "dashboard.png" : "dashboard-token.png"), 1000u);
    serve->signal(SIGTERM);
    EXPECT_EQ(serve->wait(30s), 0);
  }
};

TEST_F(dashboard, in_headless_chromium_shows_the_job_done) {
  shows_a_job_done("");
}

TEST_F(dashboard, loads_with_a_token_in_headless_chromium) {
  shows_a_job_done("t0k3n-0123456789abcdef");
}

// Two jobs editing one component at once through grove serve (builtin provider, offline): each edits in
// its own lane; whichever lands second is rebased over the first (or, if the first landed before the
// second began, starts from it): both changes land either way. tests/runtime/conflicts_test.cpp
// forces the overlap and checks the rebase itself.
TEST(serve_edits, two_jobs_editing_one_component_at_once_both_land_in_english_and_korean) {
  grove::test::temp_dir dir;
  auto ws = dir.path() / "ws";
  ASSERT_EQ(grove::test::run("'" + grove_bin + "' build 'a contact form' --repo '" + ws.string() + "' -q").status, 0);
  grove::test::child_process serve{"cd '" + dir.path().string() + "' && exec '" + grove_bin +
                                   "' serve --repo ws --port 0 2> serve.log"};
  auto port = grove::test::wait_for_number_after(dir.path() / "serve.log", "http://127.0.0.1:", 15s);
  ASSERT_FALSE(port.empty()) << grove::test::read_file(dir.path() / "serve.log");
  auto submit_both = [&](const std::string& a, const std::string& b) {
    grove::test::command_result ra, rb;
    auto submit = [&](const std::string& request) {
      return grove::test::run("'" + grove_bin + "' submit '" + request + "' --url ws://127.0.0.1:" + port +
                              " --json 2>/dev/null");
    };
    std::thread first{[&] { ra = submit(a); }};
    rb = submit(b);
    first.join();
    for (auto* r : {&ra, &rb}) {
      EXPECT_EQ(r->status, 0) << r->out;
      auto report = json::parse(r->out, nullptr, false);
      ASSERT_TRUE(report.is_object()) << r->out;
      EXPECT_EQ(report["components"][0]["action"], "edit");
      EXPECT_EQ(report["components"][0]["status"], "landed") << r->out;
    }
  };
  submit_both("add a phone field to the contact form", "add a company field to the contact form");
  submit_both("문의 폼에 주소 필드 추가해줘", "문의 폼에 웹사이트 필드 추가해줘");
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(30s), 0);
  auto doc = json::parse(grove::test::read_file(grove::test::library_file(ws, "contact_form")));
  EXPECT_EQ(doc["version"], 5) << "four edits on version 1";
  auto html = doc["html"].get<std::string>();
  for (auto* field : {"phone", "company", "address", "website"}) {
    EXPECT_NE(html.find(std::string{"name=\""} + field + "\""), std::string::npos) << field << " lost: " << html;
  }
  grove::test::expect_clean_repository(ws);
}
