// grove build against a fake OpenAI-compatible server on loopback: the real
// binary, real HTTP, a QA rejection healed by a retry, usage in the report,
// the concurrency cap held, and the API key nowhere in what grove prints or logs.

#include <gtest/gtest.h>

#include <mutex>
#include <set>

#include <nlohmann/json.hpp>

#include "fakes/fake_llm_server.hpp"
#include "support.hpp"

using grove::test::fake_reply;
using grove::test::fake_request;

namespace {

const std::string grove_bin = GROVE_BINARY;
const std::string key = "sk-live-SECRET-7d1c0b9e2a";

// Answers competently, except the first generation of login_form, which
// carries a <script> the QA gate must reject.
grove::test::fake_handler openai_with_one_bad_answer(std::chrono::milliseconds delay) {
  auto first_login = std::make_shared<std::once_flag>();
  return [first_login, delay](const fake_request& req, int) {
    auto prompt = grove::test::prompt_of("openai", req.body);
    auto text = grove::test::competent_answer(prompt);
    if (prompt.find("Component: login_form\n") != std::string::npos) {
      std::call_once(*first_login, [&] {
        auto doc = nlohmann::json::parse(text);
        doc["html"] = doc["html"].get<std::string>() + "<script>steal()</script>";
        text = doc.dump();
      });
    }
    auto r = grove::test::reply(200, grove::test::openai_body(text, 100, 200));
    r.delay = delay;
    return r;
  };
}

} // namespace

TEST(provider_cli, build_against_a_fake_openai_server) {
  grove::test::temp_dir dir;
  grove::test::fake_llm_server server{openai_with_one_bad_answer(std::chrono::milliseconds{0})};
  auto cmd = "cd '" + dir.path().string() + "' && OPENAI_BASE_URL='" + server.url("/v1") + "' OPENAI_API_KEY='" + key +
             "' '" + grove_bin +
             "' build 'a navbar, a login form and a footer' --repo ws --provider openai:gpt-test --json 2>stderr.txt";
  auto r = grove::test::run(cmd);
  ASSERT_EQ(r.status, 0) << r.out << grove::test::read_file(dir.path() / "stderr.txt");
  auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["status"], "done");
  std::map<std::string, nlohmann::json> by_name;
  for (auto& c : report["components"]) by_name[c["name"]] = c;
  ASSERT_EQ(by_name.size(), 3u);
  EXPECT_EQ(by_name["login_form"]["attempts"], 2) << "the <script> answer was rejected by QA and healed";
  EXPECT_EQ(by_name["navbar"]["attempts"], 1);
  auto& usage = report["usage"];
  EXPECT_EQ(usage["requests"], 5) << "1 plan + 3 components + 1 QA retry";
  EXPECT_EQ(usage["tokens_in"], 500);
  EXPECT_EQ(usage["tokens_out"], 1000);
  EXPECT_TRUE(usage["by_provider"].contains("openai:gpt-test")) << usage.dump();
  EXPECT_EQ(server.requests(), 5);
  for (auto& req : server.seen()) EXPECT_EQ(req.headers["authorization"], "Bearer " + key);
  auto page = grove::test::read_file(dir.path() / "ws/output/builder_output.html");
  EXPECT_NE(page.find("data-component=\"login_form\""), std::string::npos);
  EXPECT_EQ(page.find("steal()"), std::string::npos);
  grove::test::expect_clean_repository(dir.path() / "ws");
  EXPECT_EQ(r.out.find(key), std::string::npos);
  EXPECT_EQ(grove::test::read_file(dir.path() / "stderr.txt").find(key), std::string::npos);
  EXPECT_EQ(grove::test::read_file(dir.path() / "ws/.grove/telemetry.jsonl").find(key), std::string::npos);
}

TEST(provider_cli, configured_route_with_a_concurrency_cap) {
  grove::test::temp_dir dir;
  grove::test::fake_llm_server server{openai_with_one_bad_answer(std::chrono::milliseconds{60})};
  grove::test::write_file(dir.path() / "grove.json", R"({
    "providers": {"remote": {"type": "openai", "model": "m1", "base_url": ")" +
                                                       server.url("/v1") +
                                                       R"(", "api_key_env": "MY_KEY", "max_concurrency": 2,
                              "price_in_per_mtok": 1.0, "price_out_per_mtok": 2.0}},
    "routes": {"default": ["remote", "builtin"]}
  })");
  auto cmd =
    "cd '" + dir.path().string() + "' && MY_KEY='" + key + "' '" + grove_bin +
    "' build 'navbar, hero, cards, footer, sidebar, search bar' --repo ws --config grove.json --json 2>/dev/null";
  auto r = grove::test::run(cmd);
  ASSERT_EQ(r.status, 0) << r.out;
  auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["components"].size(), 6u);
  EXPECT_LE(server.max_in_flight(), 2);
  EXPECT_EQ(server.max_in_flight(), 2);
  EXPECT_GT(report["usage"]["cost_usd"].get<double>(), 0.0);
  grove::test::expect_clean_repository(dir.path() / "ws");
}

TEST(provider_cli, bad_provider_configuration_is_a_usage_error) {
  grove::test::temp_dir dir;
  auto run = [&](const std::string& args) {
    return grove::test::run("cd '" + dir.path().string() + "' && '" + grove_bin + "' " + args + " 2>&1");
  };
  auto unknown = run("build 'a navbar' --repo ws --provider nosuch");
  EXPECT_EQ(unknown.status, 2);
  EXPECT_NE(unknown.out.find("neither a configured provider nor a type"), std::string::npos) << unknown.out;
  grove::test::write_file(dir.path() / "bad.json", R"({"routes": {"generate": ["ghost"]}})");
  auto ghost = run("build 'a navbar' --repo ws --config bad.json");
  EXPECT_EQ(ghost.status, 2);
  EXPECT_NE(ghost.out.find("unknown provider \"ghost\""), std::string::npos) << ghost.out;
  grove::test::write_file(dir.path() / "url.json",
                          R"({"providers": {"x": {"type": "openai", "base_url": "ftp://nope"}}})");
  auto url = run("build 'a navbar' --repo ws --config url.json");
  EXPECT_EQ(url.status, 2);
  EXPECT_NE(url.out.find("unsupported URL scheme"), std::string::npos) << url.out;
}
