// A fresh workspace repository under a temporary folder, for the git layer's tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>

#include "infra/git/git.hpp"
#include "support.hpp"

namespace grove::test {

class repository_fixture : public ::testing::Test {
protected:
  void SetUp() override {
    auto r = git::repository::open_or_init(dir.path() / "ws");
    ASSERT_TRUE(r) << r.error().message;
    repo.emplace(std::move(*r));
  }

  std::filesystem::path root() const { return dir.path() / "ws"; }

  temp_dir dir;
  std::optional<git::repository> repo;
};

} // namespace grove::test
