#pragma once

#include <filesystem>

#include "messages/errors.hpp"

namespace grove::runtime {

/// An exclusive advisory lock on `<repo>/.grove/lock`, held for the life of
/// the object: two grove processes never drive one workspace at once.
class workspace_lock final {
public:
  static messages::result<workspace_lock> acquire(const std::filesystem::path& repo);
  workspace_lock(workspace_lock&& other) noexcept;
  workspace_lock& operator=(workspace_lock&&) = delete;
  workspace_lock(const workspace_lock&) = delete;
  ~workspace_lock();

private:
  explicit workspace_lock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

} // namespace grove::runtime
