// The whole single-node pipeline through real actors and a real repository,
// with generators and providers that crash or misbehave on purpose.

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include <caf/all.hpp>

#include "actors/generator.hpp"
#include "infra/models/provider.hpp"
#include "logic/templates.hpp"
#include "infra/git/git.hpp"
#include "runtime/node.hpp"
#include "runtime/node_fixture.hpp"
#include "support.hpp"

using namespace grove;
using grove::test::count_lines;
using grove::test::git_cli;

namespace {

// Answers plans with the builtin planner; for `generate`, a script decides per call.
class scripted_provider final : public models::provider {
public:
  using script = std::function<std::string(const messages::model_request&, int call)>;

  explicit scripted_provider(script s) : script_(std::move(s)), builtin_(models::make_builtin_provider()) {}

  std::string name() const override { return "scripted"; }

  void complete(const messages::model_request& req, const std::string& prompt, models::completion done) override {
    if (req.role != "generate") return builtin_->complete(req, prompt, std::move(done));
    int n;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      n = ++calls_[req.spec.name];
      prompts_[req.spec.name].push_back(prompt);
    }
    messages::provider_done d;
    d.ok = true;
    d.reply = messages::model_reply{"scripted", script_(req, n), 1, 1, 0};
    done(std::move(d));
  }

  std::vector<std::string> prompts(const std::string& component) {
    std::lock_guard<std::mutex> guard{mtx_};
    return prompts_[component];
  }

private:
  script script_;
  std::shared_ptr<models::provider> builtin_;
  std::mutex mtx_;
  std::map<std::string, int> calls_;
  std::map<std::string, std::vector<std::string>> prompts_;
};

std::string good_component(const messages::component_spec& spec) {
  return logic::builtin::component_json(spec.name, logic::builtin::render_component(spec));
}

std::string bad_component(const messages::component_spec& spec) {
  auto c = logic::builtin::render_component(spec);
  c.html += "<script>alert(1)</script>";
  return logic::builtin::component_json(spec.name, c);
}

actors::generator_actor::behavior_type crashing_generator(actors::generator_actor::pointer) {
  return {
    [](const messages::generate_request&) -> messages::generation_result {
      throw std::runtime_error("injected generator crash");
    },
    [](actors::step_timer_atom) {},
  };
}

class pipeline : public ::testing::Test {
protected:
  void SetUp() override {
    auto r = git::repository::open_or_init(root());
    ASSERT_TRUE(r) << r.error().message;
    settings.restart.backoff_base_ms = 1;
    settings.restart.backoff_max_ms = 5;
  }

  std::filesystem::path root() const { return dir.path() / "ws"; }

  // Runs a job over `names` on a fresh node; `crashes` generator spawns crash
  // (all of them when negative) before real generators take over.
  messages::job_report run(const std::vector<std::string>& names, std::shared_ptr<models::provider> provider,
                           int crashes = 0) {
    runtime::node_options opts;
    opts.repo = root();
    opts.settings = settings;
    opts.provider = std::move(provider);
    runtime::node n{sys, opts};
    if (crashes != 0) {
      auto real = n.default_generator_factory();
      auto spawned = std::make_shared<std::atomic<int>>(0);
      n.set_generator_factory([real, spawned, crashes](caf::local_actor* parent) -> actors::generator_actor {
        if (crashes < 0 || (*spawned)++ < crashes) return parent->spawn(crashing_generator);
        return real(parent);
      });
    }
    messages::job_start job;
    job.has_plan = true;
    job.ready_plan.session_id = "testjob";
    job.ready_plan.request = "test";
    for (auto& name : names) job.ready_plan.components.push_back({name, "A " + name});
    auto report = n.run(job);
    stats = n.stats();
    n.shutdown();
    return report;
  }

  const messages::component_report& component(const messages::job_report& r, const std::string& name) {
    for (auto& c : r.components) {
      if (c.name == name) return c;
    }
    throw std::runtime_error("no component " + name);
  }

  void expect_clean_repository() { test::expect_clean_repository(root()); }

  test::temp_dir dir;
  grove::config::settings settings;
  test::node_system_config cfg;
  caf::actor_system sys{cfg};
  messages::telemetry_stats stats;
};

} // namespace

TEST_F(pipeline, crashed_generator_is_restarted_and_the_job_completes) {
  auto report = run({"login_form", "navbar"}, models::make_builtin_provider(), 2);
  ASSERT_EQ(report.status, "done") << report.error;
  uint32_t restarts = 0;
  for (auto& c : report.components) {
    EXPECT_EQ(c.status, "landed") << c.name << ": " << c.error;
    EXPECT_EQ(c.attempts, 1u) << "a crash is a restart, not a QA attempt";
    restarts += c.restarts;
  }
  EXPECT_EQ(restarts, 2u);
  EXPECT_EQ(stats.restarts, 2u);
  EXPECT_EQ(stats.qa_retries, 0u);
  EXPECT_TRUE(std::filesystem::exists(root() / "output/builder_output.html"));
  expect_clean_repository();
}

TEST_F(pipeline, generator_that_always_crashes_fails_the_job_cleanly) {
  settings.restart.intensity = 3;
  auto report = run({"login_form", "navbar", "footer"}, models::make_builtin_provider(), -1);
  EXPECT_EQ(report.status, "failed");
  EXPECT_NE(report.error.find("restart limit"), std::string::npos) << report.error;
  for (auto& c : report.components) {
    EXPECT_EQ(c.status, "dropped") << c.name;
    EXPECT_FALSE(c.error.empty());
  }
  // Three restarts within the intensity limit, then the crash that escalated:
  // every view counts crashes, as the report does (telemetry used to count 3).
  uint32_t crashes = 0;
  for (auto& c : report.components) crashes += c.restarts;
  EXPECT_EQ(crashes, 4u) << "exactly the intensity limit, then escalation";
  EXPECT_EQ(stats.restarts, crashes);
  EXPECT_GE(stats.errors, 1u);
  EXPECT_FALSE(std::filesystem::exists(root() / "output/builder_output.html"));
  EXPECT_EQ(count_lines(git_cli(root(), "log --oneline").out), 1u) << "nothing reached main";
  expect_clean_repository();
}

TEST_F(pipeline, qa_rejections_become_retries_with_feedback_in_the_prompt) {
  auto provider = std::make_shared<scripted_provider>([](const messages::model_request& req, int call) {
    return req.spec.name == "login_form" && call <= 2 ? bad_component(req.spec) : good_component(req.spec);
  });
  auto report = run({"login_form", "navbar"}, provider);
  ASSERT_EQ(report.status, "done") << report.error;
  auto& login = component(report, "login_form");
  EXPECT_EQ(login.status, "landed");
  EXPECT_EQ(login.attempts, 3u);
  EXPECT_EQ(login.restarts, 0u);
  EXPECT_EQ(component(report, "navbar").attempts, 1u);
  auto prompts = provider->prompts("login_form");
  ASSERT_EQ(prompts.size(), 3u);
  EXPECT_EQ(prompts[0].find("rejected by QA"), std::string::npos);
  for (int i : {1, 2}) {
    EXPECT_NE(prompts[i].find("rejected by QA"), std::string::npos);
    EXPECT_NE(prompts[i].find("[script_tag]"), std::string::npos) << prompts[i];
  }
  EXPECT_EQ(stats.qa_retries, 2u);
  EXPECT_EQ(stats.restarts, 0u);
  // Each attempt is a new commit in the same worktree, on the branch that was merged.
  auto branch_log = git_cli(root(), "log --format=%s " + login.commit + "^2").out;
  EXPECT_NE(branch_log.find("grove: generate login_form (attempt 1)"), std::string::npos) << branch_log;
  EXPECT_NE(branch_log.find("grove: generate login_form (attempt 2)"), std::string::npos);
  EXPECT_NE(branch_log.find("grove: generate login_form (attempt 3)"), std::string::npos);
  EXPECT_EQ(test::read_file(test::library_file(root(), "login_form")).find("<script>"), std::string::npos);
  expect_clean_repository();
}

TEST_F(pipeline, component_that_always_fails_is_dropped_with_its_branch_and_worktree) {
  auto provider = std::make_shared<scripted_provider>([](const messages::model_request& req, int) {
    return req.spec.name == "evil" ? bad_component(req.spec) : good_component(req.spec);
  });
  auto report = run({"evil", "navbar"}, provider);
  EXPECT_EQ(report.status, "partial");
  auto& evil = component(report, "evil");
  EXPECT_EQ(evil.status, "dropped");
  EXPECT_EQ(evil.attempts, 3u);
  EXPECT_FALSE(evil.violations.empty());
  EXPECT_NE(evil.error.find("rejected after 3 attempts"), std::string::npos) << evil.error;
  EXPECT_EQ(component(report, "navbar").status, "landed");
  EXPECT_EQ(stats.dropped, 1u);
  EXPECT_GE(stats.errors, 1u);
  // The page is composed from the rest; the dropped component never reached main.
  auto page = test::read_file(root() / "output/builder_output.html");
  EXPECT_NE(page.find("data-component=\"navbar\""), std::string::npos);
  EXPECT_EQ(page.find("data-component=\"evil\""), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(test::library_file(root(), "evil")));
  EXPECT_FALSE(std::filesystem::exists(root() / "worktrees/temp_evil"));
  auto log = test::read_file(root() / ".grove/telemetry.jsonl");
  EXPECT_NE(log.find("\"stage\":\"dropped\""), std::string::npos);
  expect_clean_repository();
}

TEST_F(pipeline, model_garbage_is_self_corrected_then_retried_then_dropped) {
  auto provider = std::make_shared<scripted_provider>(
    [](const messages::model_request&, int) { return std::string{"this is not json {"}; });
  auto report = run({"login_form"}, provider);
  EXPECT_EQ(report.status, "failed");
  auto& c = component(report, "login_form");
  EXPECT_EQ(c.status, "dropped");
  EXPECT_EQ(c.attempts, 3u);
  ASSERT_FALSE(c.violations.empty());
  EXPECT_EQ(c.violations[0].code, "generation_failed");
  EXPECT_NE(c.violations[0].message.find("unusable answer after 2 corrections"), std::string::npos)
    << c.violations[0].message;
  // Each of the 3 attempts: the first ask and 2 self-corrections carrying the exact error.
  auto prompts = provider->prompts("login_form");
  ASSERT_EQ(prompts.size(), 9u);
  EXPECT_NE(prompts[1].find("could not be used: component is not valid JSON"), std::string::npos) << prompts[1];
  expect_clean_repository();
}

TEST_F(pipeline, an_answer_fixed_by_self_correction_counts_apart_from_attempts) {
  auto provider = std::make_shared<scripted_provider>([](const messages::model_request& req, int call) {
    if (call == 1) return std::string{"Sure! Here is the component: {\"component\": \"oops\"}"};
    return "```json\n" + good_component(req.spec) + "```";
  });
  auto report = run({"login_form"}, provider);
  ASSERT_EQ(report.status, "done") << report.error;
  auto& c = component(report, "login_form");
  EXPECT_EQ(c.attempts, 1u);
  EXPECT_EQ(c.corrections, 1u);
  EXPECT_EQ(c.restarts, 0u);
  auto prompts = provider->prompts("login_form");
  ASSERT_EQ(prompts.size(), 2u);
  EXPECT_NE(prompts[1].find("component.schema.json"), std::string::npos) << prompts[1];
  EXPECT_GE(report.model_usage.total.requests, 2u);
  expect_clean_repository();
}

TEST_F(pipeline, second_run_is_served_from_the_cache) {
  auto provider = std::make_shared<scripted_provider>(
    [](const messages::model_request& req, int) { return good_component(req.spec); });
  auto first = run({"login_form", "navbar"}, provider);
  ASSERT_EQ(first.status, "done");
  auto commits = git_cli(root(), "rev-list --count main").out;
  auto second = run({"login_form", "navbar"}, provider);
  ASSERT_EQ(second.status, "done");
  for (auto& c : second.components) {
    EXPECT_EQ(c.status, "cached");
    EXPECT_TRUE(c.cache_hit);
  }
  EXPECT_EQ(provider->prompts("login_form").size(), 1u) << "a cache hit calls no model";
  EXPECT_EQ(git_cli(root(), "rev-list --count main").out, commits);
  expect_clean_repository();
}

TEST_F(pipeline, many_components_land_in_parallel) {
  settings.parallel = 8;
  std::vector<std::string> names;
  for (int i = 0; i < 40; ++i) names.push_back("part" + std::to_string(i));
  auto report = run(names, models::make_builtin_provider());
  for (auto& c : report.components) EXPECT_EQ(c.status, "landed") << c.name << ": " << c.error;
  ASSERT_EQ(report.status, "done") << report.error;
  // Branches ready together land in one octopus merge; each is merged exactly once.
  auto merges = count_lines(git_cli(root(), "log --merges --oneline").out);
  EXPECT_GE(merges, 1u);
  EXPECT_LE(merges, 40u);
  for (auto& n : names) {
    EXPECT_EQ(count_lines(git_cli(root(), "log --oneline --grep='^grove: merge " + n + "$' main").out), 1u) << n;
  }
  expect_clean_repository();
}

namespace {

// A login form that passes every rule but has no password input: what only the reviewer sees.
std::string login_without_password(const messages::component_spec& spec) {
  auto c = logic::builtin::render_component(spec);
  c.html = "<section class=\"g-" + spec.name +
           "\"><form><label for=\"e\">Email</label><input id=\"e\" name=\"email\" type=\"email\">\n"
           "<button type=\"submit\">Log in</button></form></section>";
  return logic::builtin::component_json(spec.name, c);
}

} // namespace

// The reviewer in the QA gate, in its three modes, on a model whose first
// login form does not do what it promises.
TEST_F(pipeline, the_reviewer_blocks_a_component_that_breaks_its_promise_and_its_advice_heals_the_retry) {
  auto provider = std::make_shared<scripted_provider>([](const messages::model_request& req, int call) {
    return req.spec.name == "login_form" && call == 1 ? login_without_password(req.spec) : good_component(req.spec);
  });
  auto report = run({"login_form", "navbar"}, provider);
  ASSERT_EQ(report.status, "done") << report.error;
  auto& login = component(report, "login_form");
  EXPECT_EQ(login.attempts, 2u) << "blocking by default: the first attempt was rejected";
  EXPECT_TRUE(login.findings.empty()) << "the attempt that landed is clean";
  auto prompts = provider->prompts("login_form");
  ASSERT_EQ(prompts.size(), 2u);
  EXPECT_NE(prompts[1].find("[purpose_login]"), std::string::npos) << prompts[1];
  EXPECT_NE(prompts[1].find("type=\"password\""), std::string::npos) << "its advice is in the prompt: " << prompts[1];
  EXPECT_EQ(component(report, "navbar").attempts, 1u);
  expect_clean_repository();
}

TEST_F(pipeline, an_advisory_reviewer_records_findings_and_never_blocks) {
  settings.review = "advisory";
  auto provider = std::make_shared<scripted_provider>([](const messages::model_request& req, int) {
    return req.spec.name == "login_form" ? login_without_password(req.spec) : good_component(req.spec);
  });
  auto report = run({"login_form"}, provider);
  ASSERT_EQ(report.status, "done") << report.error;
  auto& login = component(report, "login_form");
  EXPECT_EQ(login.status, "landed");
  EXPECT_EQ(login.attempts, 1u);
  ASSERT_FALSE(login.findings.empty());
  EXPECT_EQ(login.findings[0].code, "purpose_login");
  EXPECT_EQ(login.findings[0].severity, "error");
  EXPECT_FALSE(login.findings[0].advice.empty());
}

TEST_F(pipeline, with_the_reviewer_off_nothing_is_reviewed) {
  settings.review = "off";
  auto provider = std::make_shared<scripted_provider>(
    [](const messages::model_request& req, int) { return login_without_password(req.spec); });
  auto report = run({"login_form"}, provider);
  ASSERT_EQ(report.status, "done") << report.error;
  EXPECT_EQ(component(report, "login_form").attempts, 1u);
  EXPECT_TRUE(component(report, "login_form").findings.empty());
}

namespace {

// A model that always makes one mistake (an input without a label) unless
// its prompt names that mistake's code; tokens counted from the text, as a
// real provider bills them.
class forgetful_model final : public models::provider {
public:
  std::string name() const override { return "forgetful"; }
  void complete(const messages::model_request& req, const std::string& prompt, models::completion done) override {
    messages::provider_done d;
    d.ok = true;
    auto c = logic::builtin::render_component(req.spec);
    if (prompt.find("input_label") == std::string::npos) {
      auto open = c.html.find('>');
      c.html.insert(open + 1, "\n<input name=\"extra\">");
    }
    auto text = logic::builtin::component_json(req.spec.name, c);
    d.reply = messages::model_reply{"forgetful", text, prompt.size() / 4, text.size() / 4, 0};
    done(std::move(d));
  }
};

struct learning_figures {
  std::vector<double> first_attempt_rate; // per job
  std::vector<double> tokens_per_landed;  // per job
};

} // namespace

// The memory of past mistakes: over 10 jobs of 5 new components each, a
// model that repeats one mistake unless told needs retries in the first job
// only; from the second on, the lesson it taught is in every prompt. Each job
// runs on a new node (lessons survive a restart). Without the memory the
// same scenario never improves, so this test can fail.
TEST_F(pipeline, lessons_of_past_mistakes_make_later_jobs_pass_first_time_and_cost_fewer_tokens) {
  auto scenario = [&](bool memory) {
    learning_figures out;
    settings.lessons = memory;
    auto provider = std::make_shared<forgetful_model>();
    for (int job = 0; job < 10; ++job) {
      std::vector<std::string> names;
      for (int i = 0; i < 5; ++i) names.push_back("form_j" + std::to_string(job) + "_c" + std::to_string(i));
      auto report = run(names, provider);
      EXPECT_EQ(report.status, "done") << report.error;
      double first = 0, landed = 0;
      for (auto& c : report.components) {
        if (c.status != "landed") continue;
        ++landed;
        if (c.attempts == 1) ++first;
      }
      out.first_attempt_rate.push_back(landed > 0 ? first / landed : 0);
      auto tokens = static_cast<double>(report.model_usage.total.tokens_in + report.model_usage.total.tokens_out);
      out.tokens_per_landed.push_back(landed > 0 ? tokens / landed : 0);
    }
    return out;
  };
  auto with = scenario(true);
  std::filesystem::remove_all(root());
  ASSERT_TRUE(git::repository::open_or_init(root()));
  auto without = scenario(false);
  double later_with = 0, later_without = 0, tokens_with = 0, tokens_without = 0;
  for (int job = 1; job < 10; ++job) {
    later_with += with.first_attempt_rate[job] / 9;
    later_without += without.first_attempt_rate[job] / 9;
    tokens_with += with.tokens_per_landed[job] / 9;
    tokens_without += without.tokens_per_landed[job] / 9;
  }
  std::printf(
    "lessons: job 1 first-attempt pass rate %.0f%% (%.0f tokens/landed); jobs 2-10 with memory %.0f%% "
    "(%.0f tokens/landed), without %.0f%% (%.0f tokens/landed)\n",
    100 * with.first_attempt_rate[0], with.tokens_per_landed[0], 100 * later_with, tokens_with, 100 * later_without,
    tokens_without);
  EXPECT_LT(with.first_attempt_rate[0], 0.5) << "the first job needs retries";
  EXPECT_GE(later_with, 0.9) << "from the second job on, at least 90% pass first time";
  EXPECT_LE(tokens_with, 0.6 * with.tokens_per_landed[0]) << "tokens per landed component fall by at least 40%";
  EXPECT_LT(later_without, 0.5) << "without the memory nothing improves";
  EXPECT_GT(tokens_without, 0.9 * without.tokens_per_landed[0]);
  // The lesson itself: the reviewer's code and advice, kept in the workspace of the first scenario (gone now);
  // the second scenario's workspace has none.
  EXPECT_FALSE(std::filesystem::exists(root() / ".grove/lessons.db"));
}
