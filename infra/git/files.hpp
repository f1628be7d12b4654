#pragma once

// Writing inside the workspace without ever following a symbolic link out of
// it: every folder on the way and the file itself are opened with
// O_NOFOLLOW relative to the folder before (openat), so a link planted
// anywhere under `root` makes the write fail instead of landing elsewhere.
// `root` itself (the workspace or a worktree folder grove made) is trusted.

#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unistd.h>

#include "messages/errors.hpp"

namespace grove::git {

/// Closes a file descriptor when it goes.
class fd_guard final {
public:
  explicit fd_guard(int fd) : fd_(fd) {}
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

private:
  int fd_;
};

/// Replaces `root/rel` with `content`, creating missing folders; `sync`
/// fsyncs the file before returning. Fails (errc::workspace) on a link.
messages::status write_file_under(const std::filesystem::path& root, const std::string& rel, std::string_view content,
                                  bool sync = false);

/// Writes each of `files` (path relative to `root`, content) as
/// write_file_under does, opening `root` once for all of them.
messages::status write_files_under(const std::filesystem::path& root,
                                   const std::vector<std::pair<std::string, std::string>>& files);

/// Opens `root/rel` for appending (created if missing), refusing links on
/// the way; returns the descriptor, which the caller closes.
messages::result<int> open_append_under(const std::filesystem::path& root, const std::string& rel);

/// Every one of `rels` under `root` that exists is a real folder: a link
/// there (even to a folder inside the workspace) is refused with a message
/// that names it and says how to proceed.
messages::status require_real_folders(const std::filesystem::path& root, std::initializer_list<const char*> rels);

/// Every folder on the way to each of `paths` (relative to `root`) that
/// exists is a real folder: what a checkout of those paths writes through.
messages::status require_real_parents(const std::filesystem::path& root, const std::vector<std::string>& paths);

} // namespace grove::git
