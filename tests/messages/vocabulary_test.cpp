#include <gtest/gtest.h>

#include "messages/report.hpp"
#include "messages/vocabulary.hpp"
#include "events.hpp"

using namespace grove;
using messages::stage;

using test::event;

TEST(vocabulary, every_stage_and_state_round_trips_through_its_name) {
  for (int i = 0; i <= static_cast<int>(stage::unknown); ++i) {
    auto s = static_cast<stage>(i);
    EXPECT_EQ(messages::stage_from_string(messages::to_string(s)), s) << messages::to_string(s);
  }
  EXPECT_EQ(messages::stage_from_string("no_such_stage"), stage::unknown);
  for (auto name : {"queued", "planning", "running", "composing", "done", "partial", "failed", "cancelled"}) {
    auto s = messages::job_state_from_string(name);
    ASSERT_TRUE(s) << name;
    EXPECT_STREQ(messages::to_string(*s), name);
  }
  EXPECT_FALSE(messages::job_state_from_string("landed"));
  EXPECT_TRUE(messages::is_final_state("partial"));
  EXPECT_FALSE(messages::is_final_state("running"));
  EXPECT_FALSE(messages::is_final_state("nonsense"));
  EXPECT_EQ(messages::final_state_of(stage::cancelled), messages::job_state::cancelled);
  EXPECT_FALSE(messages::final_state_of(stage::landed));
}

TEST(vocabulary, model_calls_add_tokens_but_are_not_a_step) {
  messages::job_status js;
  messages::apply_event(js, event("hero", stage::qa, 2));
  auto call = event("hero", stage::model, 2);
  call.tokens_in = 10;
  call.tokens_out = 20;
  messages::apply_event(js, call);
  ASSERT_EQ(js.components.size(), 1u);
  EXPECT_EQ(js.components[0].stage, stage::qa);
  EXPECT_EQ(js.tokens_in + js.tokens_out, 30u);
  EXPECT_EQ(js.components[0].tokens_out, 20u);
}
