#include "infra/git/files.hpp"

#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace grove::git {

using messages::errc;
using messages::make_failure;

namespace {

messages::failure link_refused(const fs::path& root, const std::string& shown) {
  return make_failure(errc::workspace, (root / shown).string() +
                                         " is a symbolic link or not a regular file/folder: grove never "
                                         "writes through a link; replace it with a real folder or file, or remove it");
}

// Opens the folder holding `rel`'s last component under the open folder
// `top` (`root`, for messages), creating folders on the way and never
// following a link; `name` gets that last component. Returns `top` itself
// when `rel` is a plain name (not to be closed), else a folder to close.
messages::result<int> open_parent_at(int top, const fs::path& root, const std::string& rel, std::string& name) {
  std::vector<std::string> parts;
  for (auto& p : fs::path{rel}) {
    auto s = p.string();
    if (s.empty() || s == ".") continue;
    if (s == "..") return make_failure(errc::workspace, "refusing a path that leaves the workspace: " + rel);
    parts.push_back(s);
  }
  if (parts.empty()) return make_failure(errc::workspace, "empty path under " + root.string());
  fd_guard dir{-1};
  std::string walked;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    walked += (walked.empty() ? "" : "/") + parts[i];
    int at = dir.get() < 0 ? top : dir.get();
    int next = ::openat(at, parts[i].c_str(), O_DIRECTORY | O_NOFOLLOW | O_RDONLY | O_CLOEXEC);
    if (next < 0 && errno == ENOENT) {
      if (::mkdirat(at, parts[i].c_str(), 0755) != 0 && errno != EEXIST) {
        return make_failure(errc::io, "cannot create " + (root / walked).string() + ": " + std::strerror(errno));
      }
      next = ::openat(at, parts[i].c_str(), O_DIRECTORY | O_NOFOLLOW | O_RDONLY | O_CLOEXEC);
    }
    if (next < 0 && (errno == ELOOP || errno == ENOTDIR)) return link_refused(root, walked);
    if (next < 0)
      return make_failure(errc::io, "cannot open " + (root / walked).string() + ": " + std::strerror(errno));
    dir.reset(next);
  }
  name = parts.back();
  return dir.get() >= 0 ? dir.release() : top;
}

messages::result<int> open_root(const fs::path& root) {
  int fd = ::open(root.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_failure(errc::io, "cannot open " + root.string() + ": " + std::strerror(errno));
  return fd;
}

messages::status write_at(int top, const fs::path& root, const std::string& rel, std::string_view content, bool sync) {
  std::string name;
  auto parent = open_parent_at(top, root, rel, name);
  if (!parent) return parent.error();
  fd_guard dir{*parent == top ? -1 : *parent};
  fd_guard file{::openat(*parent, name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644)};
  if (file.get() < 0 && (errno == ELOOP || errno == EISDIR)) return link_refused(root, rel);
  if (file.get() < 0)
    return make_failure(errc::io, "cannot write " + (root / rel).string() + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < content.size()) {
    auto n = ::write(file.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_failure(errc::io, "cannot write " + (root / rel).string() + ": " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  if (sync && ::fsync(file.get()) != 0) {
    return make_failure(errc::io, "cannot sync " + (root / rel).string() + ": " + std::strerror(errno));
  }
  if (::close(file.release()) != 0) {
    return make_failure(errc::io, "cannot write " + (root / rel).string() + ": " + std::strerror(errno));
  }
  return messages::ok();
}

} // namespace

messages::status write_file_under(const fs::path& root, const std::string& rel, std::string_view content, bool sync) {
  auto top = open_root(root);
  if (!top) return top.error();
  fd_guard guard{*top};
  return write_at(guard.get(), root, rel, content, sync);
}

messages::status write_files_under(const fs::path& root,
                                   const std::vector<std::pair<std::string, std::string>>& files) {
  if (files.empty()) return messages::ok();
  auto top = open_root(root);
  if (!top) return top.error();
  fd_guard guard{*top};
  for (auto& [rel, content] : files) {
    if (auto s = write_at(guard.get(), root, rel, content, false); !s) return s;
  }
  return messages::ok();
}

messages::result<int> open_append_under(const fs::path& root, const std::string& rel) {
  auto top = open_root(root);
  if (!top) return top.error();
  fd_guard guard{*top};
  std::string name;
  auto parent = open_parent_at(guard.get(), root, rel, name);
  if (!parent) return parent.error();
  fd_guard dir{*parent == guard.get() ? -1 : *parent};
  int fd = ::openat(*parent, name.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0 && (errno == ELOOP || errno == EISDIR)) return link_refused(root, rel);
  if (fd < 0) return make_failure(errc::io, "cannot open " + (root / rel).string() + ": " + std::strerror(errno));
  return fd;
}

messages::status require_real_folders(const fs::path& root, std::initializer_list<const char*> rels) {
  for (const char* rel : rels) {
    struct stat st {};
    if (::lstat((root / rel).c_str(), &st) != 0) continue; // missing: grove makes it
    if (!S_ISDIR(st.st_mode)) return link_refused(root, rel);
  }
  return messages::ok();
}

messages::status require_real_parents(const fs::path& root, const std::vector<std::string>& paths) {
  std::set<std::string> folders;
  for (auto& p : paths) {
    for (auto slash = p.find('/'); slash != std::string::npos; slash = p.find('/', slash + 1)) {
      folders.insert(p.substr(0, slash));
    }
  }
  for (auto& rel : folders) {
    struct stat st {};
    if (::lstat((root / rel).c_str(), &st) != 0) continue;
    if (!S_ISDIR(st.st_mode)) return link_refused(root, rel);
  }
  return messages::ok();
}

} // namespace grove::git
