#include "runtime/workspace_lock.hpp"

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace grove::runtime {

messages::result<workspace_lock> workspace_lock::acquire(const std::filesystem::path& repo) {
  std::error_code ec;
  std::filesystem::create_directories(repo / ".grove", ec);
  auto path = repo / ".grove" / "lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return messages::make_failure(messages::errc::workspace,
                                  "cannot open " + path.string() + ": " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return messages::make_failure(messages::errc::workspace,
                                  "workspace " + repo.string() + " is in use by another grove process");
  }
  return workspace_lock{fd};
}

workspace_lock::workspace_lock(workspace_lock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {
}

workspace_lock::~workspace_lock() {
  if (fd_ >= 0) ::close(fd_);
}

} // namespace grove::runtime
