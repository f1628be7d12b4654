// Crash safety: the real binary killed with SIGKILL at several points of a
// 14-component build, then restarted; and grove serve killed mid-job.

#include <gtest/gtest.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "fakes/fake_llm_server.hpp"
#include "infra/http/ws_client.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const std::string grove_bin = GROVE_BINARY;
const std::string request =
  "navbar, hero, dashboard, chart, data table, login form, signup form, pricing, contact form, "
  "search bar, modal, cards, sidebar, footer";
const std::vector<std::string> planned = {"navbar",     "hero",        "dashboard",     "chart",        "data_table",
                                          "login_form", "signup_form", "pricing_table", "contact_form", "search_bar",
                                          "modal",      "cards",       "sidebar",       "footer"};

// A competent model: plans after `plan_delay`, generates after `gen_delay`.
grove::test::fake_handler model(std::chrono::milliseconds plan_delay, std::chrono::milliseconds gen_delay) {
  return [=](const grove::test::fake_request& req, int) {
    auto prompt = grove::test::prompt_of("openai", req.body);
    auto r = grove::test::reply(200, grove::test::openai_body(grove::test::competent_answer(prompt)));
    r.delay = prompt.find("Component: ") != std::string::npos ? gen_delay : plan_delay;
    return r;
  };
}

class crash : public ::testing::Test {
protected:
  std::filesystem::path ws() const { return dir.path() / "ws"; }

  std::string command(const grove::test::fake_llm_server& server, const std::string& env = {}) {
    return "cd '" + dir.path().string() + "' && " + env + " OPENAI_BASE_URL='" + server.url("/v1") + "' exec '" +
           grove_bin + "' build '" + request + "' --repo ws --provider openai:m --parallel 4 --json";
  }

  // Runs a build, kills it with SIGKILL when `trigger` shows in telemetry, restarts it, checks everything.
  void kill_then_resume(const std::string& trigger, std::chrono::milliseconds plan_delay,
                        std::chrono::milliseconds gen_delay, const std::string& env = {}) {
    grove::test::fake_llm_server server{model(plan_delay, gen_delay)};
    {
      grove::test::child_process run{command(server, env) + " >first.json 2>first.log"};
      auto log = ws() / ".grove" / "telemetry.jsonl";
      auto deadline = std::chrono::steady_clock::now() + 60s;
      bool seen = false;
      while (!seen && std::chrono::steady_clock::now() < deadline) {
        seen = grove::test::read_file(log).find(trigger) != std::string::npos;
        if (!seen) std::this_thread::sleep_for(5ms);
      }
      ASSERT_TRUE(seen) << "never saw " << trigger << ": " << grove::test::read_file(dir.path() / "first.log");
      run.signal(SIGKILL);
      EXPECT_EQ(run.wait(10s), 128 + SIGKILL);
    }
    // The kill landed before the job ended.
    auto before = grove::test::run("'" + grove_bin + "' status --repo '" + ws().string() + "' --json");
    auto jobs = json::parse(before.out, nullptr, false);
    ASSERT_TRUE(jobs.is_array() && jobs.size() == 1) << before.out;
    EXPECT_EQ(jobs[0]["finished"], false) << "killed too late to test anything: " << before.out;

    auto second = grove::test::run(command(server) + " 2>'" + (dir.path() / "second.log").string() + "'");
    ASSERT_EQ(second.status, 0) << grove::test::read_file(dir.path() / "second.log");
    auto report = json::parse(second.out);
    EXPECT_EQ(report["status"], "done");
    EXPECT_EQ(report["job"], jobs[0]["job"]) << "the unfinished job was resumed, not replaced";
    EXPECT_NE(grove::test::read_file(dir.path() / "second.log").find("resuming job"), std::string::npos);
    for (auto& name : planned) {
      auto merges = grove::test::git_cli(ws(), "log --oneline --grep='^grove: merge " + name + "$' main").out;
      EXPECT_EQ(grove::test::count_lines(merges), 1u) << name << " must be on main exactly once";
      EXPECT_TRUE(std::filesystem::exists(grove::test::library_file(ws(), name))) << name;
    }
    auto page = grove::test::read_file(ws() / "output" / "builder_output.html");
    for (auto& name : planned) EXPECT_NE(page.find("data-component=\"" + name + "\""), std::string::npos) << name;
    EXPECT_LE(
      grove::test::count_lines(grove::test::git_cli(ws(), "log --oneline --grep='^grove: compose page' main").out), 1u)
      << "the composition commits once";
    grove::test::expect_clean_repository(ws());
    auto after = json::parse(grove::test::run("'" + grove_bin + "' status --repo '" + ws().string() + "' --json").out);
    ASSERT_EQ(after.size(), 1u);
    EXPECT_EQ(after[0]["state"], "done");
    EXPECT_EQ(after[0]["finished"], true);
  }

  grove::test::temp_dir dir;
};

} // namespace

TEST_F(crash, killed_during_planning) {
  kill_then_resume("\"stage\":\"planning\"", 2000ms, 0ms);
}

TEST_F(crash, killed_while_generators_run) {
  kill_then_resume("\"stage\":\"landed\"", 0ms, 250ms);
}

TEST_F(crash, killed_during_merges) {
  kill_then_resume("\"stage\":\"merging\"", 0ms, 100ms);
}

TEST_F(crash, killed_during_composition) {
  kill_then_resume("\"stage\":\"composing\"", 0ms, 0ms, "GROVE_TEST_COMPOSE_DELAY_MS=3000");
}

TEST_F(crash, serve_killed_mid_job_resumes_and_a_client_reads_the_result) {
  grove::test::fake_llm_server server{model(0ms, 200ms)};
  auto serve_cmd = "cd '" + dir.path().string() + "' && OPENAI_BASE_URL='" + server.url("/v1") + "' exec '" +
                   grove_bin + "' serve --repo ws --port 0 --provider openai:m --parallel 4";
  std::string job;
  {
    grove::test::child_process serve{serve_cmd + " 2>serve1.log"};
    auto port = grove::test::wait_for_number_after(dir.path() / "serve1.log", "http://127.0.0.1:", 15s);
    ASSERT_FALSE(port.empty());
    auto c = grove::http::ws_client::connect("ws://127.0.0.1:" + port + "/ws", "");
    ASSERT_TRUE(c);
    ASSERT_TRUE((*c)->send_text(json{{"type", "build"}, {"request", request}}.dump()));
    for (;;) {
      auto text = (*c)->read(30s);
      ASSERT_TRUE(text) << "no landing before the kill";
      auto f = json::parse(*text);
      if (f["type"] == "accepted") job = f["job"];
      if (f["type"] == "event" && f["stage"] == "landed") break;
    }
    serve.signal(SIGKILL);
    EXPECT_EQ(serve.wait(10s), 128 + SIGKILL);
  }
  ASSERT_FALSE(job.empty());
  grove::test::child_process serve{serve_cmd + " 2>serve2.log"};
  auto port = grove::test::wait_for_number_after(dir.path() / "serve2.log", "http://127.0.0.1:", 15s);
  ASSERT_FALSE(port.empty()) << grove::test::read_file(dir.path() / "serve2.log");
  EXPECT_NE(grove::test::read_file(dir.path() / "serve2.log").find("resuming job " + job), std::string::npos);
  // A client that reconnects follows the job by id and reads its result.
  auto c = grove::http::ws_client::connect("ws://127.0.0.1:" + port + "/ws", "");
  ASSERT_TRUE(c);
  ASSERT_TRUE((*c)->send_text(json{{"type", "subscribe"}, {"job", job}}.dump()));
  json result;
  for (;;) {
    auto text = (*c)->read(60s);
    ASSERT_TRUE(text);
    auto f = json::parse(*text);
    ASSERT_NE(f["type"], "error") << f.dump();
    if (f["type"] == "result") {
      result = f;
      break;
    }
  }
  EXPECT_EQ(result["job"], job);
  EXPECT_EQ(result["report"]["status"], "done");
  // And once more after another restart: the finished job's result is still readable.
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(30s), 0);
  grove::test::child_process third{serve_cmd + " 2>serve3.log"};
  auto port3 = grove::test::wait_for_number_after(dir.path() / "serve3.log", "http://127.0.0.1:", 15s);
  auto c3 = grove::http::ws_client::connect("ws://127.0.0.1:" + port3 + "/ws", "");
  ASSERT_TRUE(c3);
  ASSERT_TRUE((*c3)->send_text(json{{"type", "subscribe"}, {"job", job}}.dump()));
  auto again = json::parse(*(*c3)->read(10s));
  EXPECT_EQ(again["type"], "subscribed");
  auto stored = json::parse(*(*c3)->read(10s));
  EXPECT_EQ(stored["type"], "result");
  EXPECT_EQ(stored["report"]["status"], "done");
  third.signal(SIGTERM);
  EXPECT_EQ(third.wait(30s), 0);
  for (auto& name : planned) {
    EXPECT_EQ(grove::test::count_lines(
                grove::test::git_cli(ws(), "log --oneline --grep='^grove: merge " + name + "$' main").out),
              1u)
      << name;
  }
  grove::test::expect_clean_repository(ws());
}

TEST_F(crash, serve_killed_with_jobs_queued_resumes_them_after_restart) {
  grove::test::fake_llm_server server{model(0ms, 300ms)};
  auto serve_cmd = "cd '" + dir.path().string() + "' && OPENAI_BASE_URL='" + server.url("/v1") + "' exec '" +
                   grove_bin + "' serve --repo ws --port 0 --provider openai:m --parallel 2 --max-jobs 1";
  std::vector<std::string> waiting;
  {
    grove::test::child_process serve{serve_cmd + " 2>serve1.log"};
    auto port = grove::test::wait_for_number_after(dir.path() / "serve1.log", "http://127.0.0.1:", 15s);
    ASSERT_FALSE(port.empty());
    auto c = grove::http::ws_client::connect("ws://127.0.0.1:" + port + "/ws", "");
    ASSERT_TRUE(c);
    for (auto req : {"navbar, hero, footer", "login form", "pricing"}) {
      ASSERT_TRUE((*c)->send_text(json{{"type", "build"}, {"request", req}}.dump()));
    }
    // The first runs; the other two wait, each told its place in the line.
    while (waiting.size() < 2) {
      auto text = (*c)->read(30s);
      ASSERT_TRUE(text) << "the queued jobs were never announced";
      auto f = json::parse(*text);
      ASSERT_NE(f["type"], "error") << f.dump();
      if (f["type"] == "event" && f["stage"] == "queued" && f["position"] == static_cast<int>(waiting.size()) + 1) {
        waiting.push_back(f["job"]);
      }
    }
    // grove status reads the journal: both are recorded as queued before the kill.
    auto deadline = std::chrono::steady_clock::now() + 10s;
    int recorded = 0;
    while (recorded < 2 && std::chrono::steady_clock::now() < deadline) {
      auto st = json::parse(grove::test::run("'" + grove_bin + "' status --repo '" + ws().string() + "' --json").out,
                            nullptr, false);
      recorded = 0;
      for (auto& j : st) recorded += j["state"] == "queued";
      if (recorded < 2) std::this_thread::sleep_for(20ms);
    }
    ASSERT_EQ(recorded, 2) << "queued jobs are in the journal";
    serve.signal(SIGKILL);
    EXPECT_EQ(serve.wait(10s), 128 + SIGKILL);
  }
  grove::test::child_process serve{serve_cmd + " 2>serve2.log"};
  auto port = grove::test::wait_for_number_after(dir.path() / "serve2.log", "http://127.0.0.1:", 15s);
  ASSERT_FALSE(port.empty()) << grove::test::read_file(dir.path() / "serve2.log");
  for (auto& job : waiting) {
    EXPECT_NE(grove::test::read_file(dir.path() / "serve2.log").find("resuming job " + job), std::string::npos) << job;
    auto c = grove::http::ws_client::connect("ws://127.0.0.1:" + port + "/ws", "");
    ASSERT_TRUE(c);
    ASSERT_TRUE((*c)->send_text(json{{"type", "subscribe"}, {"job", job}}.dump()));
    json result;
    while (result.is_null()) {
      auto text = (*c)->read(60s);
      ASSERT_TRUE(text) << job << " never finished";
      auto f = json::parse(*text);
      ASSERT_NE(f["type"], "error") << f.dump();
      if (f["type"] == "result") result = f;
    }
    EXPECT_EQ(result["report"]["status"], "done") << result.dump();
  }
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(30s), 0);
  grove::test::expect_clean_repository(ws());
}
