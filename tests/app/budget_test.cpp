// Spending limits in money, through the real binary and a fake priced
// OpenAI-compatible provider on loopback: a job capped with --max-cost lands
// what its budget pays for and drops the rest with a budget error; grove
// serve with a rolling budget refuses jobs that need a model once it is
// spent (cache-only jobs still run), remembers its spend across a restart,
// and takes model-bound jobs again once the window rolls.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <nlohmann/json.hpp>

#include "fakes/fake_llm_server.hpp"
#include "app/browser_support.hpp"
#include "infra/http/ws_client.hpp"
#include "messages/clock.hpp"
#include "prometheus.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const std::string grove_bin = GROVE_BINARY;

// Every answer: 100 tokens in, 200 out. At $10 and $20 per million tokens a
// call costs (100 * 10 + 200 * 20) / 1e6 = $0.005.
constexpr double call_usd = 0.005;

struct priced_model {
  std::atomic<int> calls{0};
  grove::test::fake_llm_server server{[this](const grove::test::fake_request& req, int) {
    ++calls;
    auto r = grove::test::reply(
      200,
      grove::test::openai_body(grove::test::competent_answer(grove::test::prompt_of("openai", req.body)), 100, 200));
    r.delay = 40ms;
    return r;
  }};
};

std::string priced_config(const priced_model& m, const std::string& extra = {}) {
  return R"({"providers": {"paid": {"type": "openai", "model": "gpt-paid", "base_url": ")" + m.server.url("/v1") +
         R"(", "price_in_per_mtok": 10.0, "price_out_per_mtok": 20.0}},
             "routes": {"generate": ["paid"]})" +
         extra + "}";
}

} // namespace

TEST(budget_cli, a_job_capped_at_half_its_cost_lands_half_and_drops_the_rest_with_budget) {
  grove::test::temp_dir dir;
  priced_model model;
  grove::test::write_file(dir.path() / "grove.json", priced_config(model));
  // Six components at $0.005 each; the cap pays for three.
  auto r = grove::test::run("cd '" + dir.path().string() + "' && '" + grove_bin +
                            "' build 'navbar, hero, cards, footer, sidebar, search bar' --repo ws --config grove.json "
                            "--max-cost 0.015 --json 2>stderr.txt");
  auto err = grove::test::read_file(dir.path() / "stderr.txt");
  EXPECT_EQ(r.status, 1) << r.out << err;
  auto report = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << r.out << err;
  EXPECT_EQ(report["status"], "partial");
  EXPECT_NE(report["error"].get<std::string>().find("max_cost_usd"), std::string::npos) << report["error"];
  EXPECT_NE(report["error"].get<std::string>().find("$0.0150"), std::string::npos) << report["error"];
  int landed = 0, dropped = 0;
  std::vector<std::string> landed_names;
  for (auto& c : report["components"]) {
    if (c["status"] == "landed") {
      ++landed;
      landed_names.push_back(c["name"]);
    } else {
      ++dropped;
      EXPECT_EQ(c["status"], "dropped");
      EXPECT_EQ(c["error"].get<std::string>().rfind("budget: ", 0), 0u) << c.dump();
      EXPECT_EQ(c["attempts"], 1) << "a budget refusal is not retried: " << c.dump();
    }
  }
  std::printf("max-cost $0.015 at $%.3f a call: %d landed, %d dropped, %d model calls, $%.4f spent\n", call_usd, landed,
              dropped, model.calls.load(), report["usage"]["cost_usd"].get<double>());
  EXPECT_EQ(landed, 3);
  EXPECT_EQ(dropped, 3);
  EXPECT_EQ(model.calls.load(), 3) << "no call past the budget";
  EXPECT_LE(report["usage"]["cost_usd"].get<double>(), 0.015 + 1e-9);
  EXPECT_NE(err.find("budget"), std::string::npos) << err;
  EXPECT_NE(err.find("paid"), std::string::npos) << "spend by provider in the summary: " << err;
  // The page is composed from what landed.
  auto page = grove::test::read_file(dir.path() / "ws/output/builder_output.html");
  for (auto& name : landed_names) EXPECT_NE(page.find(name), std::string::npos) << name;
  grove::test::expect_clean_repository(dir.path() / "ws");
  // The telemetry log carries each call's cost.
  auto log = grove::test::read_file(dir.path() / "ws/.grove/telemetry.jsonl");
  EXPECT_NE(log.find("\"cost_usd\":0.005"), std::string::npos);
}

TEST(budget_cli, without_a_cap_the_same_job_lands_everything) {
  grove::test::temp_dir dir;
  priced_model model;
  grove::test::write_file(dir.path() / "grove.json", priced_config(model, R"(, "max_cost_usd": 1.0)"));
  auto r = grove::test::run("cd '" + dir.path().string() + "' && '" + grove_bin +
                            "' build 'navbar, hero, cards, footer, sidebar, search bar' --repo ws --config grove.json "
                            "--json 2>/dev/null");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(model.calls.load(), 6);
  // --max-cost 0 lifts the config's cap; a negative one is a usage error.
  auto bad = grove::test::run("cd '" + dir.path().string() + "' && '" + grove_bin +
                              "' build 'a navbar' --repo ws --config grove.json --max-cost -1 2>&1");
  EXPECT_EQ(bad.status, 2) << bad.out;
}

namespace {

class budget_serve : public ::testing::Test {
protected:
  void start() {
    serve = std::make_unique<grove::test::child_process>(
      "cd '" + dir.path().string() + "' && exec '" + grove_bin +
      "' serve --repo ws --port 0 --config grove.json --budget-usd-per-day 0.01 2>> serve.log");
    port = grove::test::wait_for_number_after(dir.path() / "serve.log", "http://127.0.0.1:", 15s);
    ASSERT_FALSE(port.empty()) << grove::test::read_file(dir.path() / "serve.log");
  }
  void stop() {
    serve->signal(SIGTERM);
    EXPECT_EQ(serve->wait(30s), 0);
    // The next start prints its own port after this one's.
    auto log = grove::test::read_file(dir.path() / "serve.log");
    grove::test::write_file(dir.path() / "serve.old.log", log);
    grove::test::write_file(dir.path() / "serve.log", "");
  }
  grove::test::command_result submit(const std::string& request) {
    return grove::test::run("'" + grove_bin + "' submit '" + request + "' --url ws://127.0.0.1:" + port +
                            " --json 2>&1");
  }
  json get(const std::string& path) {
    auto r = grove::http::http_get("http://127.0.0.1:" + port + path);
    if (!r || r->status != 200) return json{};
    return json::parse(r->body, nullptr, false);
  }
  std::string metrics() {
    auto r = grove::http::http_get("http://127.0.0.1:" + port + "/metrics");
    return r && r->status == 200 ? r->body : std::string{};
  }
  grove::test::temp_dir dir;
  priced_model model;
  std::unique_ptr<grove::test::child_process> serve;
  std::string port;
};

} // namespace

TEST_F(budget_serve, past_its_budget_the_server_refuses_model_bound_jobs_until_the_window_rolls) {
  // A short window, long enough to span a restart: $0.01 per 10 s.
  grove::test::write_file(dir.path() / "grove.json", priced_config(model, R"(, "budget_window_ms": 10000)"));
  start();
  auto before = get("/api/budget");
  EXPECT_EQ(before["configured"], true) << before.dump();
  EXPECT_EQ(before["spent_usd"], 0.0);
  // Two calls of $0.005 spend the budget.
  auto spend = submit("a navbar and a footer");
  ASSERT_EQ(spend.status, 0) << spend.out;
  auto spent_at = std::chrono::steady_clock::now();
  auto budget = get("/api/budget");
  std::printf("after the first job: /api/budget %s\n", budget.dump().c_str());
  EXPECT_NEAR(budget.value("spent_usd", -1.0), 0.01, 1e-9) << budget.dump();
  EXPECT_NEAR(budget["by_provider"].value("paid:gpt-paid", -1.0), 0.01, 1e-9) << budget.dump();
  auto m = metrics();
  // The budget's families parse as Prometheus text exposition format with the rest (tests/prometheus.hpp).
  auto check = grove::test::check_prometheus_text(m);
  for (auto& p : check.problems) ADD_FAILURE() << p;
  EXPECT_EQ(check.types["grove_budget_spent_usd"], "gauge");
  EXPECT_EQ(check.types["grove_model_cost_usd_total"], "counter");
  EXPECT_NE(m.find("grove_budget_limit_usd 0.01\n"), std::string::npos) << m;
  EXPECT_NE(m.find("grove_budget_spent_usd 0.01\n"), std::string::npos) << m;
  EXPECT_NE(m.find("grove_model_cost_usd_total{provider=\"paid:gpt-paid\"} 0.01\n"), std::string::npos) << m;

  // A restart does not reset the spend: it is journaled in .grove/spend.db.
  stop();
  start();
  EXPECT_NE(grove::test::read_file(dir.path() / "serve.log").find("$0.0100 spent within it"), std::string::npos)
    << grove::test::read_file(dir.path() / "serve.log");
  auto refused = submit("a hero");
  EXPECT_EQ(refused.status, 1) << refused.out;
  EXPECT_NE(refused.out.find("budget: the server's budget of $0.0100 per 10 s"), std::string::npos) << refused.out;
  EXPECT_NE(refused.out.find("jobs served from the library still run"), std::string::npos) << refused.out;
  ASSERT_LT(std::chrono::steady_clock::now() - spent_at, 10s) << "the test ran too slowly to see the refusal";
  // A job the library serves needs no model: it runs.
  auto cached = submit("a navbar");
  EXPECT_EQ(cached.status, 0) << cached.out;
  auto calls_before = model.calls.load();
  auto frees_at = get("/api/budget")["frees_at_ms"].get<int64_t>();
  {
    // The dashboard shows the job's cost and the spent budget (headless chromium).
    grove::test::browser chrome{dir.path(), "http://127.0.0.1:" + port + "/", port};
    ASSERT_TRUE(chrome.ok()) << chrome.why;
    EXPECT_EQ(chrome.wait_for("document.getElementById('s-budget').textContent", "$0.01 / $0.01", 10s),
              "$0.01 / $0.01");
    EXPECT_EQ(
      chrome.wait_for("String(document.getElementById('s-budget-box').classList.contains('spent'))", "true", 5s),
      "true");
    EXPECT_EQ(chrome.wait_for("document.getElementById('s-budget-window').textContent", "budget per 10 s", 5s),
              "budget per 10 s");
    EXPECT_EQ(chrome.wait_for("document.getElementById('s-cost').textContent", "$0.01", 10s), "$0.01")
      << "the restored job's spend";
  }

  // Once the spend leaves the window, model-bound jobs are taken again.
  using grove::messages::now_ms; // the clock frees_at_ms is stamped with
  ASSERT_LT(frees_at, now_ms() + 11000);
  while (now_ms() < frees_at + 100) std::this_thread::sleep_for(100ms);
  auto again = submit("a hero");
  EXPECT_EQ(again.status, 0) << again.out;
  EXPECT_EQ(model.calls.load(), calls_before + 1);
  stop();
  grove::test::expect_clean_repository(dir.path() / "ws");
}
