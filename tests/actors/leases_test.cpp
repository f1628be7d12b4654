// The node's lease table: two jobs never build one component at once.

#include <gtest/gtest.h>

#include <caf/all.hpp>

#include "actors/leases.hpp"
#include "messages/registry.hpp"
#include "support.hpp"

using namespace grove;
using namespace std::chrono_literals;

namespace {

struct leases_system : caf::actor_system_config {
  leases_system() { messages::register_messages(*this); }
};

} // namespace

TEST(leases, a_name_goes_to_one_job_at_a_time_in_request_order) {
  leases_system cfg;
  caf::actor_system sys{cfg};
  auto leases = actors::spawn_leases(sys);
  caf::scoped_actor a{sys};
  caf::scoped_actor b{sys};
  bool granted_a = false;
  a->request(leases, 5s, messages::lease_acquire{"navbar", "job-a"})
    .receive([&](uint32_t) { granted_a = true; }, [](caf::error&) {});
  ASSERT_TRUE(granted_a);
  // job-b asks for the same name: no answer while job-a holds it.
  std::atomic<bool> granted_b{false};
  std::thread waiter{[&] {
    b->request(leases, 10s, messages::lease_acquire{"navbar", "job-b"})
      .receive([&](uint32_t) { granted_b = true; }, [](caf::error&) {});
  }};
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(granted_b) << "granted while another job held it";
  // Another name is free meanwhile.
  bool other = false;
  a->request(leases, 5s, messages::lease_acquire{"footer", "job-a"})
    .receive([&](uint32_t) { other = true; }, [](caf::error&) {});
  EXPECT_TRUE(other);
  a->send(leases, messages::lease_release{"navbar", "job-a"});
  waiter.join();
  EXPECT_TRUE(granted_b) << "granted once released";
  caf::anon_send_exit(leases, caf::exit_reason::user_shutdown);
}

// Edits share a name, each in its own lane (worktree and branch); an
// exclusive request waits for them all, and no edit overtakes it.
TEST(leases, edits_share_a_name_in_lanes_and_an_exclusive_request_waits_for_them) {
  leases_system cfg;
  caf::actor_system sys{cfg};
  auto leases = actors::spawn_leases(sys);
  caf::scoped_actor a{sys}, b{sys}, c{sys}, d{sys};
  auto acquire = [&](caf::scoped_actor& who, const std::string& job, bool shared) {
    int64_t lane = -1;
    who->request(leases, 5s, messages::lease_acquire{"contact_form", job, shared})
      .receive([&](uint32_t l) { lane = l; }, [](caf::error&) {});
    return lane;
  };
  EXPECT_EQ(acquire(a, "job-a", true), 0);
  EXPECT_EQ(acquire(b, "job-b", true), 1);
  // An exclusive request (a create or a regenerate) waits for both edits.
  std::atomic<int64_t> exclusive{-1};
  std::thread waiter{[&] {
    c->request(leases, 10s, messages::lease_acquire{"contact_form", "job-c", false})
      .receive([&](uint32_t l) { exclusive = l; }, [](caf::error&) {});
  }};
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(exclusive, -1) << "granted beside edits";
  // A third edit asks after it: it must not overtake the waiting request.
  std::atomic<int64_t> late_edit{-1};
  std::thread edit_waiter{[&] {
    d->request(leases, 10s, messages::lease_acquire{"contact_form", "job-d", true})
      .receive([&](uint32_t l) { late_edit = l; }, [](caf::error&) {});
  }};
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(late_edit, -1) << "an edit overtook a waiting exclusive request";
  a->send(leases, messages::lease_release{"contact_form", "job-a"});
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(exclusive, -1) << "granted while job-b still edits";
  b->send(leases, messages::lease_release{"contact_form", "job-b"});
  waiter.join();
  EXPECT_EQ(exclusive, 0);
  c->send(leases, messages::lease_release{"contact_form", "job-c"});
  edit_waiter.join();
  EXPECT_EQ(late_edit, 0) << "the lowest free lane";
  caf::anon_send_exit(leases, caf::exit_reason::user_shutdown);
}
