// The workspace lock (two grove processes never drive one workspace) and
// the node's lease table (two jobs never build one component at once).

#include <gtest/gtest.h>

#include <caf/all.hpp>

#include "actors/leases.hpp"
#include "runtime/node.hpp"
#include "runtime/workspace_lock.hpp"
#include "support.hpp"

using namespace grove;
using namespace std::chrono_literals;

TEST(workspace_lock, a_second_holder_is_refused_and_the_first_is_named) {
  test::temp_dir dir;
  EXPECT_EQ(runtime::workspace_lock::holder(dir.path()), 0) << "nobody holds a fresh workspace";
  {
    auto first = runtime::workspace_lock::acquire(dir.path());
    ASSERT_TRUE(first) << first.error().message;
    auto second = runtime::workspace_lock::acquire(dir.path());
    ASSERT_FALSE(second);
    EXPECT_NE(second.error().message.find("in use by another grove process"), std::string::npos);
    EXPECT_EQ(runtime::workspace_lock::holder(dir.path()), ::getpid());
  }
  EXPECT_EQ(runtime::workspace_lock::holder(dir.path()), 0) << "released with its owner";
  EXPECT_TRUE(runtime::workspace_lock::acquire(dir.path()));
}

TEST(workspace_lock, a_grove_folder_that_is_a_link_is_refused) {
  test::temp_dir dir;
  auto elsewhere = dir.path() / "elsewhere";
  std::filesystem::create_directories(elsewhere);
  auto ws = dir.path() / "ws";
  std::filesystem::create_directories(ws);
  std::filesystem::create_directory_symlink(elsewhere, ws / ".grove");
  auto lock = runtime::workspace_lock::acquire(ws);
  ASSERT_FALSE(lock);
  EXPECT_NE(lock.error().message.find("symbolic link"), std::string::npos) << lock.error().message;
  EXPECT_TRUE(std::filesystem::is_empty(elsewhere));
}

namespace {

struct leases_system : caf::actor_system_config {
  leases_system() { runtime::configure(*this, config::settings{}); }
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
