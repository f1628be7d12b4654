#include <gtest/gtest.h>

#include "logic/rate_limit.hpp"

using namespace grove::logic::rate_limit;

TEST(rate_limit, a_burst_then_the_average_rate) {
  rate r{60, 3}; // one a second, three at once
  bucket b;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(take(b, r, 1000), 0) << i;
  EXPECT_EQ(take(b, r, 1000), 1000) << "the fourth waits a second";
  EXPECT_EQ(take(b, r, 1500), 500);
  EXPECT_EQ(take(b, r, 2000), 0);
  EXPECT_EQ(take(b, r, 2000), 1000);
  EXPECT_EQ(take(b, r, 100000), 0) << "refilled";
  EXPECT_EQ(take(b, r, 100000), 0);
  EXPECT_EQ(take(b, r, 100000), 0);
  EXPECT_GT(take(b, r, 100000), 0) << "never more than the burst";
}

TEST(rate_limit, zero_is_no_limit) {
  bucket b;
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(take(b, rate{0, 1}, 0), 0);
  EXPECT_EQ(per_minute(60).burst, 15);
  EXPECT_EQ(per_minute(2).burst, 1);
}

TEST(rate_limit, keys_are_apart_and_their_number_is_bounded) {
  keyed k{rate{60, 1}, 100};
  EXPECT_EQ(k.take("10.0.0.1", 0), 0);
  EXPECT_GT(k.take("10.0.0.1", 0), 0);
  EXPECT_EQ(k.take("10.0.0.2", 0), 0) << "another address has its own bucket";
  for (int i = 0; i < 1000; ++i) k.take(std::to_string(i) + "h", i);
  EXPECT_LE(k.size(), 100u);
  // A key that is spent stays spent while the table churns through refilled ones.
  keyed churn{rate{1, 1}, 10};
  EXPECT_EQ(churn.take("abuser", 0), 0);
  for (int i = 0; i < 9; ++i) churn.take(std::to_string(i) + "x", 0);
  for (int i = 0; i < 50; ++i) churn.take(std::to_string(i) + "y", 61000 + i);
  EXPECT_LE(churn.size(), 10u);
}
