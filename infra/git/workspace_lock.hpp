#pragma once

#include <filesystem>

#include "messages/errors.hpp"

namespace grove::git {

/// An exclusive advisory lock on `<repo>/.grove/lock`, held for the life of
/// the object: two grove processes never drive one workspace at once.
class workspace_lock final {
public:
  /// Takes the lock (refusing a `.grove` that is a link) and writes this
  /// process's id into the lock file for `holder`.
  static messages::result<workspace_lock> acquire(const std::filesystem::path& repo);

  /// The process id of a live grove holding the workspace's lock, or 0 when
  /// nobody holds it (the lock dies with its process, even on SIGKILL).
  static long holder(const std::filesystem::path& repo);
  workspace_lock(workspace_lock&& other) noexcept;
  workspace_lock& operator=(workspace_lock&&) = delete;
  workspace_lock(const workspace_lock&) = delete;
  ~workspace_lock();

private:
  explicit workspace_lock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

} // namespace grove::git
