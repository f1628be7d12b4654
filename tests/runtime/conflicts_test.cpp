// Parallel edits of one component through real actors and a real repository:
// the second to land is rebased over the first (a structural merge of the
// component), a hunk both changed goes to the resolver (role resolve), a
// resolution that landed is remembered, and anything unresolved drops that
// edit cleanly. Edits are answered by the builtin provider; a gate holds
// them until the jobs' calls are all in flight, so the jobs truly overlap.

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "infra/git/git.hpp"
#include "infra/models/provider.hpp"
#include "logic/edits.hpp"
#include "logic/metrics.hpp"
#include "runtime/node.hpp"
#include "runtime/node_fixture.hpp"
#include "support.hpp"

using namespace grove;
using namespace std::chrono_literals;
using grove::test::git_cli;
using json = nlohmann::json;

namespace {

// Every role goes to the builtin provider, except: "edit" calls wait until
// `gate` of them are held (or none came for 400 ms: the router lets only a
// provider's max_concurrency through at once), then all go on together;
// "resolve" calls go to `resolver` when one is set (nullopt: never answered).
class gated_provider final : public models::provider {
public:
  using resolver_fn = std::function<std::optional<std::string>(const messages::model_request&)>;

  explicit gated_provider(size_t gate) : gate_(gate), builtin_(models::make_builtin_provider()) {
    timer_ = std::thread{[this] {
      std::unique_lock<std::mutex> lock{mtx_};
      while (!stop_) {
        cv_.wait_for(lock, 50ms);
        if (!held_.empty() && std::chrono::steady_clock::now() - last_ > 400ms) release(lock);
      }
    }};
  }

  ~gated_provider() override {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      stop_ = true;
    }
    cv_.notify_all();
    timer_.join();
  }

  std::string name() const override { return "scripted"; }

  void set_resolver(resolver_fn f) {
    std::lock_guard<std::mutex> guard{mtx_};
    resolver_ = std::move(f);
  }

  int resolves() const { return resolves_; }

  void complete(const messages::model_request& req, const std::string& prompt, models::completion done) override {
    if (req.role == "resolve") {
      resolver_fn f;
      {
        std::lock_guard<std::mutex> guard{mtx_};
        f = resolver_;
      }
      if (f) {
        ++resolves_;
        last_prompt_ = prompt;
        auto answer = f(req);
        if (!answer) return; // never answered: the job's deadline must end it
        messages::provider_done d;
        d.ok = true;
        d.reply = messages::model_reply{"scripted", *answer, 1, 1, 0};
        done(std::move(d));
        return;
      }
    }
    if (req.role != "edit") return builtin_->complete(req, prompt, std::move(done));
    std::unique_lock<std::mutex> lock{mtx_};
    held_.push_back({req, prompt, std::move(done)});
    last_ = std::chrono::steady_clock::now();
    if (held_.size() >= gate_) release(lock);
  }

  std::string last_resolve_prompt() const { return last_prompt_; }

private:
  struct held_call {
    messages::model_request req;
    std::string prompt;
    models::completion done;
  };

  void release(std::unique_lock<std::mutex>& lock) {
    auto calls = std::move(held_);
    held_.clear();
    lock.unlock();
    for (auto& c : calls) builtin_->complete(c.req, c.prompt, std::move(c.done));
    lock.lock();
  }

  size_t gate_;
  std::shared_ptr<models::provider> builtin_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<held_call> held_;
  std::chrono::steady_clock::time_point last_{};
  bool stop_ = false;
  resolver_fn resolver_;
  std::atomic<int> resolves_{0};
  std::string last_prompt_;
  std::thread timer_;
};

struct event_store {
  std::mutex mtx;
  std::vector<messages::telemetry_event> events;
};

actors::event_sink_actor::behavior_type collect(actors::event_sink_actor::pointer, std::shared_ptr<event_store> s) {
  return {
    [s](const messages::telemetry_event& ev) {
      std::lock_guard<std::mutex> guard{s->mtx};
      s->events.push_back(ev);
    },
  };
}

class conflicts : public ::testing::Test {
protected:
  void SetUp() override {
    auto r = git::repository::open_or_init(root());
    ASSERT_TRUE(r) << r.error().message;
  }

  std::filesystem::path root() const { return dir.path() / "ws"; }

  void start(size_t gate) {
    provider = std::make_shared<gated_provider>(gate);
    runtime::node_options opts;
    opts.repo = root();
    opts.settings = settings;
    opts.provider = provider;
    node.emplace(sys, opts);
    node->subscribe(sys.spawn(collect, events));
  }

  void TearDown() override {
    if (node) node->shutdown();
  }

  messages::job_report build_contact_form() {
    messages::job_start job;
    job.has_plan = true;
    job.ready_plan.session_id = "build";
    job.ready_plan.request = "a contact form";
    job.ready_plan.components.push_back({"contact_form", "Contact form with name, email and message"});
    return node->run(job);
  }

  // One job per instruction, all at once; their reports in the same order.
  std::vector<messages::job_report> edit_at_once(const std::vector<std::string>& instructions) {
    std::vector<messages::job_report> reports(instructions.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < instructions.size(); ++i) {
      threads.emplace_back([this, i, &instructions, &reports] {
        messages::job_start job;
        job.has_plan = true;
        job.ready_plan.session_id = "edit" + std::to_string(++jobs);
        job.ready_plan.request = instructions[i];
        job.ready_plan.components.push_back({"contact_form", "Contact form", "edit", instructions[i]});
        reports[i] = node->run(job);
      });
    }
    for (auto& t : threads) t.join();
    return reports;
  }

  json library_copy() { return json::parse(test::read_file(test::library_file(root(), "contact_form"))); }

  // The events seen so far (telemetry publishes after the report: waits briefly for the last).
  std::vector<messages::telemetry_event> seen() {
    std::this_thread::sleep_for(300ms);
    std::lock_guard<std::mutex> guard{events->mtx};
    return events->events;
  }

  std::string metrics_text() {
    logic::metrics m;
    for (auto& ev : seen()) m.observe(ev);
    return m.render();
  }

  static const messages::component_report& only(const messages::job_report& r) { return r.components.at(0); }

  test::temp_dir dir;
  grove::config::settings settings;
  test::node_system_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<gated_provider> provider;
  std::optional<runtime::node> node;
  std::shared_ptr<event_store> events = std::make_shared<event_store>();
  std::atomic<int> jobs{0};
};

// Two jobs add a field each to one form at once: both fields land, the
// version goes up by two, main's history shows the rebase, the builtin
// resolver kept both insertions (both went before the button's line).
TEST_F(conflicts, two_edits_adding_fields_at_once_both_land_after_a_rebase_in_english_and_korean) {
  start(2);
  ASSERT_EQ(build_contact_form().status, "done");
  ASSERT_EQ(library_copy()["version"], 1);
  struct round {
    std::vector<std::string> instructions;
    std::vector<std::string> fields;
    int version;
  };
  for (auto& r : std::vector<round>{
         {{"add a phone field to the contact form", "add a company field to the contact form"},
          {"phone", "company"},
          3},
         {{"문의 폼에 주소 필드 추가해줘", "문의 폼에 웹사이트 필드 추가해줘"}, {"address", "website"}, 5}}) {
    auto reports = edit_at_once(r.instructions);
    int rebased = 0;
    std::set<uint32_t> versions;
    for (auto& rep : reports) {
      ASSERT_EQ(rep.status, "done") << rep.error << " " << only(rep).error;
      EXPECT_EQ(only(rep).status, "landed") << only(rep).error;
      EXPECT_EQ(only(rep).action, "edit");
      versions.insert(only(rep).version);
      if (only(rep).rebases > 0) {
        ++rebased;
        EXPECT_EQ(only(rep).resolved_by, "builtin") << "both sides inserted before the button's line";
        EXPECT_NE(only(rep).conflict.find("both sides inserted"), std::string::npos) << only(rep).conflict;
      }
    }
    EXPECT_EQ(rebased, 1) << "the second to land is rebased over the first";
    EXPECT_EQ(versions, (std::set<uint32_t>{static_cast<uint32_t>(r.version - 1), static_cast<uint32_t>(r.version)}));
    auto doc = library_copy();
    EXPECT_EQ(doc["version"], r.version) << "up by two";
    auto html = doc["html"].get<std::string>();
    for (auto& f : r.fields) EXPECT_NE(html.find("name=\"" + f + "\""), std::string::npos) << f << " lost:\n" << html;
  }
  // main's history shows each rebase, naming the job it was merged with.
  auto log = git_cli(root(), "log main --format=%B").out;
  EXPECT_EQ(test::count_lines(git_cli(root(), "log main --format=%s --grep='^grove: rebase contact_form onto'").out),
            2u)
    << log;
  EXPECT_NE(log.find("Merged with the change of job edit"), std::string::npos) << log;
  EXPECT_NE(log.find("Both sides' insertions kept."), std::string::npos) << log;
  EXPECT_NE(log.find("Instruction: 문의 폼에"), std::string::npos) << log;
  auto evs = seen();
  int rebasing = 0, resolved_builtin = 0;
  for (auto& ev : evs) {
    if (ev.stage == messages::stage::rebasing) ++rebasing;
    if (ev.stage == messages::stage::resolved && ev.provider == "builtin") ++resolved_builtin;
  }
  EXPECT_EQ(rebasing, 2);
  EXPECT_EQ(resolved_builtin, 2);
  auto metrics = metrics_text();
  EXPECT_NE(metrics.find("grove_conflicts_total{outcome=\"resolved\",resolver=\"builtin\"} 2"), std::string::npos)
    << metrics;
  EXPECT_NE(metrics.find("grove_rebases_total 2"), std::string::npos) << metrics;
  test::expect_clean_repository(root());
}

// Eight jobs each add a different field to one form at once: every field
// lands (none lost to "last merge wins"), version 1 -> 9, fsck clean.
TEST_F(conflicts, eight_jobs_adding_a_field_each_at_once_lose_nothing) {
  start(8);
  ASSERT_EQ(build_contact_form().status, "done");
  std::vector<std::string> fields{"phone", "company", "address", "website", "city", "country", "fax", "nickname"};
  std::vector<std::string> instructions;
  for (auto& f : fields) instructions.push_back("add a " + f + " field to the contact form");
  auto reports = edit_at_once(instructions);
  uint32_t rebases = 0;
  for (auto& rep : reports) {
    EXPECT_EQ(only(rep).status, "landed") << only(rep).error;
    rebases += only(rep).rebases;
  }
  EXPECT_GE(rebases, 7u) << "all but the first to land were rebased at least once";
  auto doc = library_copy();
  EXPECT_EQ(doc["version"], 9);
  auto html = doc["html"].get<std::string>();
  for (auto& f : fields) EXPECT_NE(html.find("name=\"" + f + "\""), std::string::npos) << f << " lost:\n" << html;
  test::expect_clean_repository(root());
}

// Both jobs retitle the form: a true conflict. The resolver's answer lands,
// QA-checked; the same conflict a second time is resolved from memory.
TEST_F(conflicts, a_true_conflict_goes_to_the_resolver_and_the_same_conflict_again_reaches_no_model) {
  start(2);
  ASSERT_EQ(build_contact_form().status, "done");
  auto original = library_copy()["metadata"]["title"].get<std::string>();
  provider->set_resolver([](const messages::model_request& req) -> std::optional<std::string> {
    // The resolver answers main's version with both titles.
    auto out =
      logic::builtin::apply_edit(req.current, "change the title of the contact form to \"Write to us | Get in touch\"");
    return out ? std::optional<std::string>{*out} : std::nullopt;
  });
  std::vector<std::string> pair{"change the title of the contact form to \"Write to us\"",
                                "change the title of the contact form to \"Get in touch\""};
  auto reports = edit_at_once(pair);
  int resolved = 0;
  for (auto& rep : reports) {
    ASSERT_EQ(only(rep).status, "landed") << only(rep).error;
    if (!only(rep).resolved_by.empty()) {
      ++resolved;
      EXPECT_EQ(only(rep).resolved_by, "scripted");
      EXPECT_NE(only(rep).conflict.find("a conflict in"), std::string::npos) << only(rep).conflict;
      EXPECT_NE(only(rep).conflict.find("job edit"), std::string::npos)
        << "names the other job: " << only(rep).conflict;
    }
  }
  EXPECT_EQ(resolved, 1);
  EXPECT_EQ(provider->resolves(), 1);
  // The prompt carries the base, both versions and both instructions.
  auto prompt = provider->last_resolve_prompt();
  for (auto& instruction : pair) {
    auto quoted = instruction.substr(instruction.find('"') + 1);
    EXPECT_NE(prompt.find(quoted.substr(0, quoted.size() - 1)), std::string::npos) << prompt;
  }
  EXPECT_EQ(library_copy()["metadata"]["title"], "Write to us | Get in touch");
  EXPECT_EQ(library_copy()["version"], 3);
  EXPECT_NE(git_cli(root(), "log main --format=%s").out.find("(conflict resolved by scripted)"), std::string::npos);
  // Back to the original title, then the same two changes again: the same conflict, from memory.
  auto back = edit_at_once({"change the title of the contact form to \"" + original + "\""});
  ASSERT_EQ(only(back[0]).status, "landed") << only(back[0]).error;
  reports = edit_at_once(pair);
  int from_memory = 0;
  for (auto& rep : reports) {
    ASSERT_EQ(only(rep).status, "landed") << only(rep).error;
    if (only(rep).resolved_by == "memory") ++from_memory;
  }
  EXPECT_EQ(from_memory, 1);
  EXPECT_EQ(provider->resolves(), 1) << "the same conflict reached no model a second time";
  EXPECT_EQ(library_copy()["metadata"]["title"], "Write to us | Get in touch");
  EXPECT_EQ(library_copy()["version"], 6);
  auto metrics = metrics_text();
  EXPECT_NE(metrics.find("grove_conflicts_total{outcome=\"resolved\",resolver=\"memory\"} 1"), std::string::npos)
    << metrics;
  EXPECT_NE(metrics.find("grove_conflicts_total{outcome=\"resolved\",resolver=\"scripted\"} 1"), std::string::npos);
  test::expect_clean_repository(root());
}

// What the other job landed stays; the dropped edit names it.
void expect_one_dropped(const std::vector<messages::job_report>& reports, const std::string& why) {
  int dropped = 0;
  for (auto& rep : reports) {
    auto& c = rep.components.at(0);
    if (c.status == "dropped") {
      ++dropped;
      EXPECT_NE(c.error.find(why), std::string::npos) << c.error;
      EXPECT_NE(c.error.find("job edit"), std::string::npos) << "names the other job: " << c.error;
    } else {
      EXPECT_EQ(c.status, "landed") << c.error;
    }
  }
  EXPECT_EQ(dropped, 1);
}

TEST_F(conflicts, a_resolver_answer_that_breaks_a_qa_rule_drops_the_edit_and_main_keeps_the_other) {
  start(2);
  ASSERT_EQ(build_contact_form().status, "done");
  provider->set_resolver([](const messages::model_request& req) -> std::optional<std::string> {
    auto doc = json::parse(req.current);
    doc["html"] = doc["html"].get<std::string>() + "\n<script>alert(1)</script>";
    return doc.dump();
  });
  auto reports = edit_at_once({"change the title of the contact form to \"Write to us\"",
                               "change the title of the contact form to \"Get in touch\""});
  expect_one_dropped(reports, "failed the QA gate");
  auto doc = library_copy();
  EXPECT_EQ(doc["version"], 2) << "only the other edit landed";
  auto title = doc["metadata"]["title"].get<std::string>();
  EXPECT_TRUE(title == "Write to us" || title == "Get in touch") << title;
  EXPECT_EQ(doc["html"].get<std::string>().find("<script"), std::string::npos);
  auto metrics = metrics_text();
  EXPECT_NE(metrics.find("grove_conflicts_total{outcome=\"dropped\"} 1"), std::string::npos) << metrics;
  test::expect_clean_repository(root());
}

TEST_F(conflicts, a_resolver_that_never_answers_drops_the_edit_at_its_deadline_cleanly) {
  settings.generator_timeout_ms = 1500;
  start(2);
  ASSERT_EQ(build_contact_form().status, "done");
  provider->set_resolver([](const messages::model_request&) -> std::optional<std::string> { return std::nullopt; });
  auto started = std::chrono::steady_clock::now();
  auto reports = edit_at_once({"change the title of the contact form to \"Write to us\"",
                               "change the title of the contact form to \"Get in touch\""});
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s);
  expect_one_dropped(reports, "did not answer within");
  EXPECT_EQ(library_copy()["version"], 2);
  test::expect_clean_repository(root());
}

TEST_F(conflicts, offline_the_builtin_resolver_reports_a_true_conflict_and_drops_that_edit) {
  start(2);
  ASSERT_EQ(build_contact_form().status, "done");
  auto reports = edit_at_once({"change the title of the contact form to \"Write to us\"",
                               "change the title of the contact form to \"Get in touch\""});
  expect_one_dropped(reports, "needs a model provider");
  EXPECT_EQ(library_copy()["version"], 2);
  test::expect_clean_repository(root());
}

} // namespace
