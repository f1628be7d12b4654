// Every message type crosses a node boundary: it must survive CAF's binary
// serializer inside a caf::message (which also proves it is registered).

#include <gtest/gtest.h>

#include <caf/all.hpp>

#include "messages/registry.hpp"
#include "messages/types.hpp"

using namespace grove::messages;

namespace {

class serialization : public ::testing::Test {
protected:
  struct config : caf::actor_system_config {
    config() {
      register_messages(*this);
      set("scheduler.max-threads", size_t{1});
    }
  };

  template <class T>
  void round_trip(const T& x) {
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    auto msg = caf::make_message(x);
    auto err = sink(msg);
    ASSERT_FALSE(err) << sys.render(err);
    ASSERT_FALSE(buf.empty());
    caf::message copy;
    caf::binary_deserializer source{sys, buf};
    err = source(copy);
    ASSERT_FALSE(err) << sys.render(err);
    ASSERT_TRUE(copy.match_elements<T>()) << "type lost in transit";
    EXPECT_TRUE(copy.get_as<T>(0) == x) << caf::deep_to_string(x) << " != " << caf::deep_to_string(copy.get_as<T>(0));
  }

  config cfg;
  caf::actor_system sys{cfg};
};

const component_spec spec{"login_form", "Login form"};
const plan a_plan{"s1", "대시보드 페이지와 로그인 폼", {spec, {"dashboard", "d"}}};
const violation a_violation{"script_tag", "no script"};

} // namespace

TEST_F(serialization, plans_and_requests_round_trip) {
  round_trip(spec);
  round_trip(a_plan);
  round_trip(a_violation);
  round_trip(job_start{"req", true, a_plan, "job7"});
  round_trip(job_cancel{"client asked"});
  round_trip(lease_acquire{"navbar", "job7"});
  round_trip(lease_release{"navbar", "job7"});
  round_trip(plan_request{"job", "req"});
}

TEST_F(serialization, model_messages_round_trip) {
  round_trip(model_request{"generate", "job", "prompt", "req", spec, 2, {a_violation}});
  round_trip(model_reply{"builtin", "{}", 10, 20, 1});
  round_trip(provider_done{7, true, model_reply{"p", "t", 1, 2, 0}, "err", 429, true, 1500, 30});
  round_trip(router_retry{9});
  round_trip(usage_request{"job"});
  round_trip(job_usage{usage{"", 3, 1, 100, 200, 0.5}, {usage{"openai:gpt", 3, 1, 100, 200, 0.5}}});
  round_trip(generate_request{"job", spec, 3, {a_violation}, false});
  round_trip(generation_result{"login_form", 2, true, true, "{\"a\":1}", "prompt", "builtin", "err", 1, false, {a_violation}});
}

TEST_F(serialization, git_and_qa_messages_round_trip) {
  round_trip(worktree_open{"abc"});
  round_trip(worktree_commit{"{}", 2});
  round_trip(worktree_remove{true});
  round_trip(qa_request{"x", "{}"});
  round_trip(qa_verdict{"x", false, {a_violation}});
  round_trip(merge_request{"x", "0123", "4567"});
  round_trip(merge_result{"x", "4567", 3});
  round_trip(file_entry{"output/a", "content"});
  round_trip(commit_files_request{"msg", {file_entry{"p", "c"}}});
  round_trip(commit_files_result{"89ab", true});
  round_trip(compose_request{"job", "req", {"{}", "{}"}});
  round_trip(compose_result{"output/builder_output.html", "cdef", true});
}

TEST_F(serialization, reports_and_telemetry_round_trip) {
  round_trip(
    telemetry_event{"job", "x", stage::model, 2, true, "detail", 1234567, "openai:m", 429, 1500, 10, 20, "node-a", 0.0125});
  round_trip(telemetry_stats{1, 2, 3, 4, 5, 6, 7});
  component_report cr{"x", "dropped", 3, 1, 2, false, "", {a_violation}, "why", {"serve", "w1"}};
  round_trip(cr);
  round_trip(job_report{
    "job", "req", "partial", {cr}, "out.html", "c0ffee", 42, "err", job_usage{usage{"", 1, 0, 5, 6, 0.1}, {}}});
  round_trip(generator_restart{"x"});
  component_status cs{"navbar", stage::qa, 2, 1, true, "d", "node-a", 10, 20, 30, 40, 0.25};
  job_status js{"job",
                "req",
                job_state::running,
                1,
                2,
                {cs},
                5,
                6,
                0.5,
                {"oops"},
                true,
                job_report{"job", "req", "done", {cr}, "o", "c", 1, "", {}}};
  round_trip(cs);
  round_trip(js);
  round_trip(submit_job{job_start{"req", false, {}, ""}});
  round_trip(status_request{"job"});
  round_trip(status_reply{{js}});
  round_trip(cancel_job{"job", "why"});
  round_trip(journal_entry{journal_record::component, "job", "merging", "text", {"navbar"}, 2, "abc"});
}
