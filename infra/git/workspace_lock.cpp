#include "infra/git/workspace_lock.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "infra/git/files.hpp"

namespace grove::git {

messages::result<workspace_lock> workspace_lock::acquire(const std::filesystem::path& repo) {
  if (auto s = git::require_real_folders(repo, {".grove"}); !s) return s.error();
  std::error_code ec;
  std::filesystem::create_directories(repo / ".grove", ec);
  auto path = repo / ".grove" / "lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    return messages::make_failure(messages::errc::workspace,
                                  "cannot open " + path.string() + ": " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return messages::make_failure(messages::errc::workspace,
                                  "workspace " + repo.string() + " is in use by another grove process");
  }
  auto pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // Only `grove status` reads it; the lock itself holds.
  }
  return workspace_lock{fd};
}

long workspace_lock::holder(const std::filesystem::path& repo) {
  auto path = repo / ".grove" / "lock";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return 0;
  long pid = 0;
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
    char buf[32] = {};
    auto n = ::pread(fd, buf, sizeof buf - 1, 0);
    pid = n > 0 ? std::strtol(buf, nullptr, 10) : 0;
    if (pid <= 0) pid = -1; // held, by a process that did not say who
  }
  ::close(fd);
  return pid;
}

workspace_lock::workspace_lock(workspace_lock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

workspace_lock::~workspace_lock() {
  if (fd_ >= 0) ::close(fd_);
}

} // namespace grove::git
