#include <gtest/gtest.h>

#include "logic/supervision.hpp"

using namespace grove::logic::supervision;
using namespace std::chrono_literals;

TEST(backoff, doubles_from_base_without_jitter) {
  backoff_policy p{millis{10}, millis{10000}, 0.0};
  EXPECT_EQ(backoff_delay(p, 0, 0.5), millis{10});
  EXPECT_EQ(backoff_delay(p, 1, 0.5), millis{20});
  EXPECT_EQ(backoff_delay(p, 4, 0.5), millis{160});
}

TEST(backoff, is_capped_at_max) {
  backoff_policy p{millis{10}, millis{500}, 0.0};
  EXPECT_EQ(backoff_delay(p, 10, 0.0), millis{500});
  EXPECT_EQ(backoff_delay(p, 1000, 0.0), millis{500}); // no overflow for huge n
}

TEST(backoff, jitter_adds_up_to_its_fraction) {
  backoff_policy p{millis{100}, millis{1000}, 0.5};
  EXPECT_EQ(backoff_delay(p, 0, 0.0), millis{100});
  EXPECT_EQ(backoff_delay(p, 0, 1.0), millis{150});
  EXPECT_EQ(backoff_delay(p, 0, 0.5), millis{125});
  // Jitter applies after the cap: min(max, base*2^n) * (1 + jitter*rand).
  EXPECT_EQ(backoff_delay(p, 20, 1.0), millis{1500});
}

TEST(backoff, random_draw_is_clamped) {
  backoff_policy p{millis{100}, millis{1000}, 0.5};
  EXPECT_EQ(backoff_delay(p, 0, -3.0), millis{100});
  EXPECT_EQ(backoff_delay(p, 0, 7.0), millis{150});
}

TEST(backoff, is_monotonic_in_attempts) {
  backoff_policy p{millis{3}, millis{5000}, 0.0};
  for (uint32_t n = 0; n < 30; ++n) EXPECT_LE(backoff_delay(p, n, 0.3), backoff_delay(p, n + 1, 0.3));
}

TEST(restart_intensity, allows_r_restarts_in_t) {
  restart_intensity ri{3, millis{1000}};
  auto t0 = clock::time_point{} + 1h;
  EXPECT_TRUE(ri.record(t0));
  EXPECT_TRUE(ri.record(t0 + 100ms));
  EXPECT_TRUE(ri.record(t0 + 200ms));
  EXPECT_FALSE(ri.record(t0 + 300ms));
}

TEST(restart_intensity, window_slides) {
  restart_intensity ri{2, millis{1000}};
  auto t0 = clock::time_point{} + 1h;
  EXPECT_TRUE(ri.record(t0));
  EXPECT_TRUE(ri.record(t0 + 500ms));
  EXPECT_TRUE(ri.record(t0 + 1001ms)); // the first one expired
  EXPECT_EQ(ri.in_window(t0 + 1001ms), 2u);
  EXPECT_FALSE(ri.record(t0 + 1200ms));
}

TEST(restart_intensity, zero_means_never_restart) {
  restart_intensity ri{0, millis{1000}};
  EXPECT_FALSE(ri.record(clock::time_point{} + 1h));
}

TEST(restart_type, follows_otp) {
  EXPECT_TRUE(should_restart(restart_type::permanent, false));
  EXPECT_TRUE(should_restart(restart_type::permanent, true));
  EXPECT_FALSE(should_restart(restart_type::transient, false));
  EXPECT_TRUE(should_restart(restart_type::transient, true));
  EXPECT_FALSE(should_restart(restart_type::temporary, true));
}

TEST(supervision, the_policy_answers_restart_after_a_delay_leave_or_give_up) {
  backoff_policy b{10ms, 1000ms, 0.0};
  auto t0 = clock::time_point{} + std::chrono::hours{1};
  restart_policy transient{restart_type::transient, 2, 1000ms, b};
  EXPECT_EQ(transient.on_exit(false, 0, t0, 0.0).kind, decision::leave) << "a normal end is not restarted";
  auto first = transient.on_exit(true, 0, t0, 0.0);
  EXPECT_EQ(first.kind, decision::restart);
  EXPECT_EQ(first.delay, 10ms);
  auto second = transient.on_exit(true, 1, t0 + 10ms, 0.0);
  EXPECT_EQ(second.kind, decision::restart);
  EXPECT_EQ(second.delay, 20ms) << "the backoff grows with the child's restarts";
  EXPECT_EQ(transient.on_exit(true, 2, t0 + 20ms, 0.0).kind, decision::give_up) << "a third within the period";
  EXPECT_EQ(transient.on_exit(true, 0, t0 + 2000ms, 0.0).kind, decision::restart) << "the window moved on";
  restart_policy temporary{restart_type::temporary, 5, 1000ms, b};
  EXPECT_EQ(temporary.on_exit(true, 0, t0, 0.0).kind, decision::leave);
  restart_policy permanent{restart_type::permanent, 5, 1000ms, b};
  EXPECT_EQ(permanent.on_exit(false, 0, t0, 0.0).kind, decision::restart) << "permanent: even a normal end";
}

TEST(supervision, a_failure_already_counted_restarts_without_spending_the_intensity) {
  backoff_policy b{10ms, 1000ms, 0.0};
  auto t0 = clock::time_point{} + std::chrono::hours{1};
  restart_policy p{restart_type::transient, 1, 1000ms, b};
  EXPECT_EQ(p.on_exit(true, 0, t0, 0.0).kind, decision::restart) << "the lost node: one failure";
  // Its other generators: restarted with their backoff, the intensity untouched.
  for (uint32_t i = 0; i < 8; ++i) {
    auto d = p.on_exit_of_counted_failure(true, 1, 0.0);
    EXPECT_EQ(d.kind, decision::restart);
    EXPECT_EQ(d.delay, 20ms);
  }
  EXPECT_EQ(p.on_exit_of_counted_failure(false, 0, 0.0).kind, decision::leave);
  EXPECT_EQ(p.on_exit(true, 0, t0 + 10ms, 0.0).kind, decision::give_up) << "a second failure is one too many";
}
