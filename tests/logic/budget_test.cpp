#include <gtest/gtest.h>

#include "logic/budget.hpp"

using namespace grove::logic::budget;

TEST(budget, no_limit_always_lets_calls_through) {
  scope s;
  s.spent = 1e6;
  s.in_flight = 100;
  EXPECT_EQ(admit(s), verdict::go);
}

TEST(budget, the_first_call_goes_alone_until_its_cost_is_known) {
  scope s{.limit = 1.0};
  EXPECT_EQ(admit(s), verdict::go);
  auto r = reserve(s);
  EXPECT_EQ(r, 0.0);
  EXPECT_EQ(admit(s), verdict::wait) << "parallel calls wait for a first price";
  settle(s, r, 0.3);
  EXPECT_TRUE(s.known);
  EXPECT_DOUBLE_EQ(s.spent, 0.3);
  EXPECT_EQ(admit(s), verdict::go);
}

TEST(budget, parallel_calls_reserve_so_the_limit_is_not_overshot) {
  scope s{.limit = 1.0};
  settle(s, reserve(s), 0.25); // spent 0.25, estimate 0.25
  double held[3];
  for (auto& r : held) {
    EXPECT_EQ(admit(s), verdict::go);
    r = reserve(s);
  }
  EXPECT_DOUBLE_EQ(s.reserved, 0.75);
  EXPECT_EQ(admit(s), verdict::wait) << "0.25 spent + 0.75 in flight is the limit: one more would overshoot";
  EXPECT_DOUBLE_EQ(estimate(s), 0.25);
  settle(s, held[0], 0.25);
  settle(s, held[1], 0.25);
  EXPECT_EQ(admit(s), verdict::wait);
  settle(s, held[2], 0.125);
  EXPECT_EQ(s.in_flight, 0u);
  EXPECT_DOUBLE_EQ(s.reserved, 0.0);
  EXPECT_DOUBLE_EQ(s.spent, 0.875);
  EXPECT_EQ(admit(s), verdict::refuse) << "0.875 + 0.25 expected > 1.0";
  EXPECT_EQ(refusal(s, "the job's max_cost_usd"),
            "the job's max_cost_usd of $1.0000 is reached: $0.8750 spent, the next call is expected to cost $0.2500");
  scope exact{.limit = 0.5};
  settle(exact, reserve(exact), 0.25);
  EXPECT_EQ(admit(exact), verdict::go) << "exactly the limit is allowed";
  settle(exact, reserve(exact), 0.25);
  EXPECT_EQ(admit(exact), verdict::refuse) << "spent is the limit";
}

TEST(budget, a_call_that_would_exceed_with_nothing_in_flight_is_refused) {
  scope s{.limit = 1.0};
  settle(s, reserve(s), 0.6);
  EXPECT_EQ(admit(s), verdict::refuse) << "0.6 + 0.6 > 1.0";
}

TEST(budget, a_dearer_call_raises_the_estimate) {
  scope s{.limit = 10.0};
  settle(s, reserve(s), 0.1);
  settle(s, reserve(s), 2.0);
  settle(s, reserve(s), 0.1);
  EXPECT_DOUBLE_EQ(estimate(s), 2.0);
}

TEST(budget, a_failed_call_that_cost_nothing_still_frees_its_reservation) {
  scope s{.limit = 1.0};
  settle(s, reserve(s), 0.4);
  auto r = reserve(s);
  EXPECT_EQ(admit(s), verdict::wait);
  settle(s, r, 0.0);
  EXPECT_EQ(s.in_flight, 0u);
  EXPECT_DOUBLE_EQ(s.reserved, 0.0);
  EXPECT_EQ(admit(s), verdict::go) << "0.4 spent + 0.4 expected fits in 1.0";
}

TEST(budget, cost_and_dollars) {
  EXPECT_DOUBLE_EQ(cost_of(1000, 2000, 3.0, 15.0), (3000.0 + 30000.0) / 1e6);
  EXPECT_EQ(dollars(0.0123456), "$0.0123");
  EXPECT_EQ(dollars(250), "$250.00");
  EXPECT_EQ(window_text(86'400'000), "day");
  EXPECT_EQ(window_text(6 * 3'600'000), "6 h");
  EXPECT_EQ(window_text(10'000), "10 s");
}
