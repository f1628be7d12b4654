// The node's supervision tree: each permanent service is killed
// (exit_reason::kill) in the middle of a 12-component job; the job still
// completes, the repository is clean, and the restart shows in telemetry and
// in the /metrics text. Past the restart limit the node stops cleanly and
// the journal keeps the job for the next start.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <caf/all.hpp>

#include "actors/interfaces.hpp"
#include "infra/git/git.hpp"
#include "infra/journal/journal.hpp"
#include "infra/models/provider.hpp"
#include "logic/templates.hpp"
#include "messages/codec.hpp"
#include "runtime/node.hpp"
#include "runtime/node_fixture.hpp"
#include "support.hpp"

using namespace grove;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> twelve{"navbar",  "footer",  "hero", "login_form", "signup_form", "data_table",
                                      "sidebar", "pricing", "faq",  "contact",    "search_bar",  "gallery"};

// Every call takes `delay` (in the router's handler: calls are serialised),
// so a 12-component job runs long enough to be interrupted; plans name the
// twelve components.
class slow_provider final : public models::provider {
public:
  explicit slow_provider(std::chrono::milliseconds delay) : delay_(delay) {}

  std::string name() const override { return "slow"; }

  void complete(const messages::model_request& req, const std::string&, models::completion done) override {
    std::this_thread::sleep_for(delay_);
    messages::provider_done d;
    d.ok = true;
    if (req.role == "plan") {
      messages::plan p;
      p.session_id = req.job;
      p.request = req.request;
      for (auto& name : twelve) p.components.push_back({name, "A " + name});
      d.reply = messages::model_reply{"slow", messages::plan_to_text(p), 1, 1, 0};
    } else {
      d.reply = messages::model_reply{
        "slow", logic::builtin::component_json(req.spec.name, logic::builtin::render_component(req.spec)), 1, 1, 0};
    }
    done(std::move(d));
  }

private:
  std::chrono::milliseconds delay_;
};

// Counts what the job did, as telemetry tells it.
struct watch {
  std::atomic<int> landed{0};
  std::atomic<int> planning{0};
};

actors::event_sink_actor::behavior_type watcher(actors::event_sink_actor::pointer, std::shared_ptr<watch> w) {
  return {
    [w](const messages::telemetry_event& ev) {
      if (ev.stage == messages::stage::landed) ++w->landed;
      if (ev.stage == messages::stage::planning) ++w->planning;
    },
  };
}

// The twelve components as a job: planned already, or planned by the customer agent.
messages::job_start twelve_component_job(const std::string& id, bool planned) {
  messages::job_start job;
  job.job = id;
  job.request = "twelve components";
  if (planned) {
    job.has_plan = true;
    job.ready_plan.session_id = id;
    job.ready_plan.request = job.request;
    for (auto& name : twelve) job.ready_plan.components.push_back({name, "A " + name});
  }
  return job;
}

class node_supervision : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    auto r = git::repository::open_or_init(root());
    ASSERT_TRUE(r) << r.error().message;
    settings.parallel = 3;
    settings.service_restart.backoff_base_ms = 5;
    settings.service_restart.backoff_max_ms = 50;
  }

  std::filesystem::path root() const { return dir.path() / "ws"; }

  runtime::node_options options() {
    runtime::node_options opts;
    opts.repo = root();
    opts.settings = settings;
    opts.provider = std::make_shared<slow_provider>(25ms);
    opts.on_give_up = [this](const std::string& why) {
      std::lock_guard<std::mutex> guard{mtx};
      given_up = why;
    };
    return opts;
  }

  // Waits (bounded) until `pred` holds.
  template <class Pred>
  static bool wait_for(Pred pred, std::chrono::milliseconds limit = 20s) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(2ms);
    }
    return true;
  }

  // Kills the running instance of `service`; waits until its replacement runs.
  void kill(runtime::node& n, const std::string& service) {
    auto victim = n.service_instance(service);
    ASSERT_TRUE(victim) << service << " is not running";
    caf::anon_send_exit(victim, caf::exit_reason::kill);
    ASSERT_TRUE(wait_for([&] {
      auto now = n.service_instance(service);
      return now && now != victim;
    }))
      << service << " was not restarted";
  }

  std::string metrics(runtime::node& n) {
    std::string text;
    caf::scoped_actor self{sys};
    self->request(n.telemetry(), 10s, actors::metrics_atom::value)
      .receive([&](std::string& t) { text = std::move(t); }, [](caf::error&) {});
    return text;
  }

  std::string telemetry_log() {
    std::ifstream in{root() / ".grove" / "telemetry.jsonl"};
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  test::temp_dir dir;
  config::settings settings;
  test::node_system_config cfg;
  caf::actor_system sys{cfg};
  std::mutex mtx;
  std::string given_up;
};

} // namespace

TEST_P(node_supervision, a_service_killed_mid_job_is_restarted_and_the_job_completes) {
  auto service = GetParam();
  runtime::node n{sys, options()};
  auto w = std::make_shared<watch>();
  n.subscribe(sys.spawn(watcher, w));
  // A ready plan starts generating at once; the customer agent is only busy while it plans.
  auto job = twelve_component_job("killjob", service != "customer_agent");
  caf::scoped_actor client{sys};
  auto pending = client->request(n.spawn_job(), std::chrono::seconds{30}, job);
  if (service == "customer_agent") {
    // The plan is being asked for (each model call takes 25 ms): kill its asker.
    ASSERT_TRUE(wait_for([&] { return w->planning.load() > 0; }));
  } else {
    ASSERT_TRUE(wait_for([&] { return w->landed.load() >= 3; }));
  }
  kill(n, service);
  messages::job_report report;
  pending.receive([&](messages::job_report& r) { report = std::move(r); },
                  [&](caf::error& err) { FAIL() << sys.render(err); });
  EXPECT_EQ(report.status, "done") << service << ": " << report.error;
  EXPECT_EQ(report.components.size(), twelve.size());
  for (auto& c : report.components) EXPECT_TRUE(c.status == "landed" || c.status == "cached") << c.name << c.error;
  auto stats = n.stats();
  EXPECT_EQ(stats.service_restarts, 1u) << service;
  auto text = metrics(n);
  EXPECT_NE(text.find("grove_node_restarts_total{actor=\"" + service + "\"} 1"), std::string::npos) << text;
  n.shutdown();
  bool logged = false;
  std::istringstream lines{telemetry_log()};
  for (std::string line; std::getline(lines, line);) {
    logged = logged || (line.find("\"stage\":\"service_restarted\"") != std::string::npos &&
                        line.find("\"component\":\"" + service + "\"") != std::string::npos);
  }
  EXPECT_TRUE(logged) << "the restart is in .grove/telemetry.jsonl";
  test::expect_clean_repository(root());
  std::lock_guard<std::mutex> guard{mtx};
  EXPECT_EQ(given_up, "");
}

INSTANTIATE_TEST_SUITE_P(each_permanent_service, node_supervision, ::testing::ValuesIn(runtime::node::service_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST_F(node_supervision, past_the_restart_limit_the_node_stops_and_the_journal_keeps_the_job) {
  settings.service_restart.intensity = 1;
  settings.service_restart.period_ms = 60000;
  runtime::node n{sys, options()};
  auto w = std::make_shared<watch>();
  n.subscribe(sys.spawn(watcher, w));
  auto job = twelve_component_job("limitjob", true);
  caf::scoped_actor client{sys};
  auto pending = client->request(n.spawn_job(), std::chrono::seconds{30}, job);
  ASSERT_TRUE(wait_for([&] { return w->landed.load() >= 2; }));
  kill(n, "integrator"); // within the limit: restarted
  auto second = n.service_instance("integrator");
  ASSERT_TRUE(second);
  caf::anon_send_exit(second, caf::exit_reason::kill); // one past it
  ASSERT_TRUE(wait_for([&] {
    std::lock_guard<std::mutex> guard{mtx};
    return !given_up.empty();
  }));
  messages::job_report report;
  pending.receive([&](messages::job_report& r) { report = std::move(r); },
                  [&](caf::error& err) { FAIL() << sys.render(err); });
  {
    std::lock_guard<std::mutex> guard{mtx};
    EXPECT_NE(given_up.find("the integrator service failed"), std::string::npos) << given_up;
    EXPECT_NE(given_up.find("restart limit of 1"), std::string::npos) << given_up;
  }
  EXPECT_NE(report.status, "done");
  EXPECT_NE(report.error.find("node stopping"), std::string::npos) << report.error;
  auto text = metrics(n);
  EXPECT_NE(text.find("grove_node_service_failures_total{actor=\"integrator\"} 1"), std::string::npos) << text;
  n.shutdown();
  // The journal could not record the end: the next start resumes the job.
  auto journal = journal::journal::open(root());
  ASSERT_TRUE(journal) << journal.error().message;
  auto open_jobs = (*journal)->unfinished();
  ASSERT_TRUE(open_jobs);
  ASSERT_EQ(open_jobs->size(), 1u);
  EXPECT_EQ(open_jobs->front().id, "limitjob");
}
