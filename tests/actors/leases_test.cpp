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
    .receive([&](bool) { granted_a = true; }, [](caf::error&) {});
  ASSERT_TRUE(granted_a);
  // job-b asks for the same name: no answer while job-a holds it.
  std::atomic<bool> granted_b{false};
  std::thread waiter{[&] {
    b->request(leases, 10s, messages::lease_acquire{"navbar", "job-b"})
      .receive([&](bool) { granted_b = true; }, [](caf::error&) {});
  }};
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(granted_b) << "granted while another job held it";
  // Another name is free meanwhile.
  bool other = false;
  a->request(leases, 5s, messages::lease_acquire{"footer", "job-a"})
    .receive([&](bool) { other = true; }, [](caf::error&) {});
  EXPECT_TRUE(other);
  a->send(leases, messages::lease_release{"navbar", "job-a"});
  waiter.join();
  EXPECT_TRUE(granted_b) << "granted once released";
  caf::anon_send_exit(leases, caf::exit_reason::user_shutdown);
}
