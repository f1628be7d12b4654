// grove build against a fake OpenAI-compatible server on loopback: the real
// binary, real HTTP, a QA rejection healed by a retry, usage in the report,
// the concurrency cap held, and the API key nowhere in what grove prints or logs.

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "fakes/fake_llm_server.hpp"
#include "logic/edits.hpp"
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

// Anthropic's messages API: a whole build through it, the first answer a 401
// that echoes the key, 429 with retry-after and 529 overloaded on the way;
// the key is in every request's x-api-key and nowhere grove writes.
TEST(provider_cli, build_against_a_fake_anthropic_server) {
  grove::test::temp_dir dir;
  const std::string akey = "sk-ant-api03-SECRET-4b2e9f7a1c";
  grove::test::fake_llm_server server{[&](const fake_request& req, int n) {
    if (n == 1) return grove::test::reply(429, R"({"type":"error","error":{"type":"rate_limit_error"}})",
                                          {{"retry-after", "1"}});
    if (n == 2) return grove::test::reply(529, R"({"type":"error","error":{"type":"overloaded_error"}})");
    if (n == 3) return grove::test::reply(500, "upstream failed for x-api-key " + akey);
    auto prompt = grove::test::prompt_of("anthropic", req.body);
    return grove::test::reply(200, grove::test::anthropic_body(grove::test::competent_answer(prompt), 100, 200));
  }};
  grove::test::write_file(dir.path() / "grove.json",
                          R"({"providers": {"claude": {"type": "anthropic", "model": "claude-test", "backoff_base_ms": 10,
                               "backoff_max_ms": 50, "max_retries": 3}}, "routes": {"default": ["claude"]}})");
  auto cmd = "cd '" + dir.path().string() + "' && ANTHROPIC_BASE_URL='" + server.url() + "' ANTHROPIC_API_KEY='" +
             akey + "' '" + grove_bin +
             "' build 'a navbar and a footer' --repo ws --config grove.json --json 2>stderr.txt";
  auto r = grove::test::run(cmd);
  auto err = grove::test::read_file(dir.path() / "stderr.txt");
  ASSERT_EQ(r.status, 0) << r.out << err;
  auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["status"], "done");
  EXPECT_EQ(report["components"].size(), 2u);
  auto& usage = report["usage"];
  EXPECT_TRUE(usage["by_provider"].contains("claude:claude-test")) << usage.dump();
  EXPECT_EQ(usage["tokens_in"], 300) << "plan and two components, each 100 in: " << usage.dump();
  EXPECT_EQ(server.requests(), 6) << "three failures retried, then plan + 2 components";
  for (auto& req : server.seen()) {
    EXPECT_EQ(req.target, "/v1/messages");
    EXPECT_EQ(req.headers["x-api-key"], akey);
    EXPECT_EQ(req.headers["anthropic-version"], "2023-06-01");
  }
  auto page = grove::test::read_file(dir.path() / "ws/output/builder_output.html");
  EXPECT_NE(page.find("data-component=\"navbar\""), std::string::npos);
  grove::test::expect_clean_repository(dir.path() / "ws");
  auto objects = grove::test::run("cd '" + (dir.path() / "ws").string() +
                                  "' && git cat-file --batch-all-objects --batch 2>/dev/null")
                   .out;
  for (auto& where : {r.out, err, grove::test::read_file(dir.path() / "ws/.grove/telemetry.jsonl"), objects}) {
    EXPECT_EQ(where.find(akey), std::string::npos) << where.substr(0, 2000);
    EXPECT_EQ(where.find("SECRET-4b2e"), std::string::npos);
  }
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

namespace {

std::string between(const std::string& text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  if (at == std::string::npos) return {};
  at += from.size();
  return text.substr(at, text.find(to, at) - at);
}

// A model for parallel edits: an edit to one of the two rival titles waits
// (up to 10 s) until the rival edit arrives too, so the two jobs truly
// overlap (the restoring edit in between takes no part), then answers the
// builtin's edit of the prompt's current version; a resolve prompt is
// counted and answered with main's version carrying both titles.
struct overlapping_model {
  std::mutex mtx;
  std::condition_variable cv;
  int edits = 0;
  std::atomic<int> resolves{0};
  std::string resolve_prompt;

  grove::test::fake_reply answer(const fake_request& req) {
    auto prompt = grove::test::prompt_of("openai", req.body);
    std::string text;
    if (prompt.rfind("You are the resolver", 0) == 0) {
      ++resolves;
      {
        std::lock_guard<std::mutex> guard{mtx};
        resolve_prompt = prompt;
      }
      auto theirs = between(prompt, "Their version (on main):\n", "\n\nRules");
      auto out = grove::logic::builtin::apply_edit(
        theirs, "change the title of the contact form to \"Write to us | Get in touch\"");
      text = out ? *out : "not a component";
    } else if (prompt.rfind("You are a generation agent editing", 0) == 0) {
      auto instruction = between(prompt, "Instruction: ", "\n");
      auto paired = instruction.ends_with("\"Write to us\"") || instruction.ends_with("\"Get in touch\"");
      if (paired) {
        std::unique_lock<std::mutex> lock{mtx};
        ++edits;
        cv.notify_all();
        cv.wait_for(lock, std::chrono::seconds{10}, [&] { return edits % 2 == 0; });
      }
      auto out =
        grove::logic::builtin::apply_edit(between(prompt, "Current version:\n", "\n\nRules"), instruction);
      text = out ? *out : "cannot";
    } else {
      text = grove::test::competent_answer(prompt);
    }
    return grove::test::reply(200, grove::test::openai_body(text, 100, 200));
  }
};

} // namespace

// Through the real binary, grove serve and a fake OpenAI server: two jobs
// retitle one form at once, a true conflict; the model's resolution lands
// (QA-checked); the same conflict again is resolved from memory, with no
// model request; the key appears nowhere in the memory or the history.
TEST(provider_cli, parallel_retitles_are_resolved_by_the_model_once_then_from_memory) {
  grove::test::temp_dir dir;
  auto model = std::make_shared<overlapping_model>();
  grove::test::fake_llm_server server{[model](const fake_request& req, int) { return model->answer(req); }};
  auto env = "OPENAI_BASE_URL='" + server.url("/v1") + "' OPENAI_API_KEY='" + key + "' ";
  auto built = grove::test::run("cd '" + dir.path().string() + "' && " + env + "'" + grove_bin +
                                "' build 'a contact form' --repo ws --provider openai:gpt-test -q");
  ASSERT_EQ(built.status, 0) << built.out;
  auto library = grove::test::library_file(dir.path() / "ws", "contact_form");
  auto original = nlohmann::json::parse(grove::test::read_file(library))["metadata"]["title"].get<std::string>();
  grove::test::child_process serve{"cd '" + dir.path().string() + "' && " + env + "exec '" + grove_bin +
                                   "' serve --repo ws --provider openai:gpt-test --port 0 2> serve.log"};
  auto port =
    grove::test::wait_for_number_after(dir.path() / "serve.log", "http://127.0.0.1:", std::chrono::seconds{15});
  ASSERT_FALSE(port.empty()) << grove::test::read_file(dir.path() / "serve.log");
  auto submit = [&](const std::string& request) {
    auto r = grove::test::run("'" + grove_bin + "' submit '" + request + "' --url ws://127.0.0.1:" + port +
                              " --json 2>/dev/null");
    auto report = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(report.is_object()) << r.out;
    return report.is_object() ? report["components"][0] : nlohmann::json{};
  };
  auto retitle_both = [&] {
    nlohmann::json a, b;
    std::thread first{[&] { a = submit("change the title of the contact form to \"Write to us\""); }};
    b = submit("change the title of the contact form to \"Get in touch\"");
    first.join();
    std::vector<std::string> resolvers;
    for (auto* c : {&a, &b}) {
      EXPECT_EQ((*c)["status"], "landed") << c->dump();
      if (!(*c)["resolved_by"].get<std::string>().empty()) resolvers.push_back((*c)["resolved_by"]);
    }
    EXPECT_EQ(resolvers.size(), 1u) << a.dump() << "\n" << b.dump();
    return resolvers.empty() ? std::string{} : resolvers[0];
  };
  EXPECT_EQ(retitle_both(), "openai:gpt-test");
  EXPECT_EQ(model->resolves, 1);
  {
    std::lock_guard<std::mutex> guard{model->mtx};
    EXPECT_NE(model->resolve_prompt.find("Write to us"), std::string::npos);
    EXPECT_NE(model->resolve_prompt.find("Get in touch"), std::string::npos);
  }
  EXPECT_EQ(nlohmann::json::parse(grove::test::read_file(library))["metadata"]["title"], "Write to us | Get in touch");
  EXPECT_EQ(submit("change the title of the contact form to \"" + original + "\"")["status"], "landed");
  EXPECT_EQ(retitle_both(), "memory");
  EXPECT_EQ(model->resolves, 1) << "the same conflict reached no model a second time";
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(std::chrono::seconds{30}), 0);
  auto doc = nlohmann::json::parse(grove::test::read_file(library));
  EXPECT_EQ(doc["metadata"]["title"], "Write to us | Get in touch");
  EXPECT_EQ(doc["version"], 6);
  grove::test::expect_clean_repository(dir.path() / "ws");
  for (auto& entry : std::filesystem::directory_iterator{dir.path() / "ws/.grove/resolutions"}) {
    EXPECT_EQ(grove::test::read_file(entry.path()).find(key), std::string::npos);
  }
  EXPECT_EQ(grove::test::git_cli(dir.path() / "ws", "log --all --format=%B").out.find(key), std::string::npos);
}

// A model reviewer on a route of its own (a second provider: feedback from
// another model), through the real binary and a fake OpenAI server: an error
// finding rejects the attempt and its advice reaches the retry's prompt; a
// reviewer that answers garbage or hangs never blocks: the builtin reviews
// instead, and a reviewer_unavailable warning says why.
TEST(provider_cli, a_model_reviewer_on_its_own_provider_blocks_with_advice_and_never_hangs_a_job) {
  auto build_with = [](const std::string& reviewer_behaviour, std::vector<std::string>& generation_prompts,
                       int& reviews) {
    grove::test::temp_dir dir;
    std::mutex mtx;
    grove::test::fake_llm_server server{[&](const fake_request& req, int) {
      auto prompt = grove::test::prompt_of("openai", req.body);
      std::lock_guard<std::mutex> guard{mtx};
      if (prompt.rfind("You are the reviewer in a QA gate", 0) == 0) {
        ++reviews;
        if (reviewer_behaviour == "hang") {
          fake_reply r;
          r.hang = true;
          return r;
        }
        std::string verdict = "I think it looks fine!";
        if (reviewer_behaviour == "strict") {
          verdict = reviews == 1 ? R"({"pass": false, "findings": [{"code": "login_no_recovery", "severity": "error",
                                      "message": "the login form offers no way to recover a password",
                                      "advice": "add a link to reset the password"}]})"
                                 : R"({"pass": true, "findings": []})";
        }
        return grove::test::reply(200, grove::test::openai_body(verdict));
      }
      if (prompt.find("Component: login_form\n") != std::string::npos) generation_prompts.push_back(prompt);
      return grove::test::reply(200, grove::test::openai_body(grove::test::competent_answer(prompt)));
    }};
    grove::test::write_file(dir.path() / "grove.json", R"({
      "generator_timeout_ms": 3000,
      "providers": {"writer": {"type": "openai", "model": "m1", "base_url": ")" +
                                                         server.url("/v1") + R"(", "api_key_env": "MY_KEY"},
                    "critic": {"type": "openai", "model": "m2", "base_url": ")" +
                                                         server.url("/v1") +
                                                         R"(", "api_key_env": "MY_KEY", "max_retries": 0}},
      "routes": {"default": ["writer"]}
    })");
    auto r = grove::test::run("cd '" + dir.path().string() + "' && MY_KEY='" + key + "' timeout 60 '" + grove_bin +
                              "' build 'a login form' --repo ws --config grove.json --json 2>/dev/null");
    EXPECT_EQ(r.status, 0) << r.out;
    auto report = nlohmann::json::parse(r.out, nullptr, false);
    grove::test::expect_clean_repository(dir.path() / "ws");
    return report.is_object() ? report["components"][0] : nlohmann::json{};
  };
  std::vector<std::string> prompts;
  int reviews = 0;
  auto strict = build_with("strict", prompts, reviews);
  EXPECT_EQ(strict["status"], "landed") << strict.dump();
  EXPECT_EQ(strict["attempts"], 2) << "the critic's error finding rejected the first attempt";
  EXPECT_EQ(reviews, 2);
  ASSERT_EQ(prompts.size(), 2u);
  EXPECT_NE(prompts[1].find("[login_no_recovery]"), std::string::npos) << prompts[1];
  EXPECT_NE(prompts[1].find("add a link to reset the password"), std::string::npos) << "its advice is in the prompt";

  for (auto* behaviour : {"garbage", "hang"}) {
    prompts.clear();
    reviews = 0;
    auto started = std::chrono::steady_clock::now();
    auto c = build_with(behaviour, prompts, reviews);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds{30}) << behaviour;
    EXPECT_EQ(c["status"], "landed") << behaviour << ": " << c.dump();
    EXPECT_EQ(c["attempts"], 1) << behaviour;
    EXPECT_GE(reviews, 1) << behaviour;
    bool reported = false;
    for (auto& f : c["findings"]) reported = reported || f["code"] == "reviewer_unavailable";
    EXPECT_TRUE(reported) << behaviour << ": " << c.dump();
  }
}
