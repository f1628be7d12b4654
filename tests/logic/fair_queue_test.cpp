// The serving node's waiting line: FIFO per connection, connections in turn.

#include <gtest/gtest.h>

#include "logic/fair_queue.hpp"

using grove::logic::fair_queue;

TEST(fair_queue, one_owner_is_first_in_first_out) {
  fair_queue q;
  q.push("a", "1");
  q.push("a", "2");
  q.push("a", "3");
  EXPECT_EQ(q.position("3"), 3u);
  EXPECT_EQ(q.pop(), "1");
  EXPECT_EQ(q.pop(), "2");
  EXPECT_EQ(q.position("3"), 1u);
  EXPECT_EQ(q.pop(), "3");
  EXPECT_FALSE(q.pop());
  EXPECT_TRUE(q.empty());
}

TEST(fair_queue, a_burst_from_one_connection_does_not_starve_another) {
  fair_queue q;
  for (auto id : {"g0", "g1", "g2", "g3", "g4"}) q.push("greedy", id);
  q.push("polite", "p0");
  EXPECT_EQ(q.position("p0"), 2u) << "served in the second turn, not after five";
  EXPECT_EQ(q.order(), (std::vector<std::string>{"g0", "p0", "g1", "g2", "g3", "g4"}));
  EXPECT_EQ(q.pop(), "g0");
  EXPECT_EQ(q.pop(), "p0");
  EXPECT_EQ(q.pop(), "g1");
  EXPECT_EQ(q.size(), 3u);
}

TEST(fair_queue, a_cancelled_job_leaves_the_line_and_the_others_move_up) {
  fair_queue q;
  q.push("a", "1");
  q.push("b", "2");
  q.push("a", "3");
  EXPECT_TRUE(q.remove("2"));
  EXPECT_FALSE(q.remove("2"));
  EXPECT_EQ(q.order(), (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(q.position("3"), 2u);
  EXPECT_EQ(q.position("nope"), 0u);
  EXPECT_TRUE(q.remove("1"));
  EXPECT_TRUE(q.remove("3"));
  EXPECT_TRUE(q.empty());
  q.push("b", "4");
  EXPECT_EQ(q.pop(), "4");
}
