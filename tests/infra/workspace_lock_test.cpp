// The workspace lock: two grove processes never drive one workspace.

#include <gtest/gtest.h>

#include "infra/git/workspace_lock.hpp"
#include "support.hpp"

using namespace grove;

TEST(workspace_lock, a_second_holder_is_refused_and_the_first_is_named) {
  test::temp_dir dir;
  EXPECT_EQ(git::workspace_lock::holder(dir.path()), 0) << "nobody holds a fresh workspace";
  {
    auto first = git::workspace_lock::acquire(dir.path());
    ASSERT_TRUE(first) << first.error().message;
    auto second = git::workspace_lock::acquire(dir.path());
    ASSERT_FALSE(second);
    EXPECT_NE(second.error().message.find("in use by another grove process"), std::string::npos);
    EXPECT_EQ(git::workspace_lock::holder(dir.path()), ::getpid());
  }
  EXPECT_EQ(git::workspace_lock::holder(dir.path()), 0) << "released with its owner";
  EXPECT_TRUE(git::workspace_lock::acquire(dir.path()));
}

TEST(workspace_lock, a_grove_folder_that_is_a_link_is_refused) {
  test::temp_dir dir;
  auto elsewhere = dir.path() / "elsewhere";
  std::filesystem::create_directories(elsewhere);
  auto ws = dir.path() / "ws";
  std::filesystem::create_directories(ws);
  std::filesystem::create_directory_symlink(elsewhere, ws / ".grove");
  auto lock = git::workspace_lock::acquire(ws);
  ASSERT_FALSE(lock);
  EXPECT_NE(lock.error().message.find("symbolic link"), std::string::npos) << lock.error().message;
  EXPECT_TRUE(std::filesystem::is_empty(elsewhere));
}
