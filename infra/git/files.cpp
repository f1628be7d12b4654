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

// Opens the folder holding `rel`'s last component (creating folders on the
// way, never following a link); `name` gets that last component.
messages::result<int> open_parent(const fs::path& root, const std::string& rel, std::string& name) {
  fd_guard dir{::open(root.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC)};
  if (dir.get() < 0) return make_failure(errc::io, "cannot open " + root.string() + ": " + std::strerror(errno));
  std::vector<std::string> parts;
  for (auto& p : fs::path{rel}) {
    auto s = p.string();
    if (s.empty() || s == ".") continue;
    if (s == "..") return make_failure(errc::workspace, "refusing a path that leaves the workspace: " + rel);
    parts.push_back(s);
  }
  if (parts.empty()) return make_failure(errc::workspace, "empty path under " + root.string());
  std::string walked;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    walked += (walked.empty() ? "" : "/") + parts[i];
    int next = ::openat(dir.get(), parts[i].c_str(), O_DIRECTORY | O_NOFOLLOW | O_RDONLY | O_CLOEXEC);
    if (next < 0 && errno == ENOENT) {
      if (::mkdirat(dir.get(), parts[i].c_str(), 0755) != 0 && errno != EEXIST) {
        return make_failure(errc::io, "cannot create " + (root / walked).string() + ": " + std::strerror(errno));
      }
      next = ::openat(dir.get(), parts[i].c_str(), O_DIRECTORY | O_NOFOLLOW | O_RDONLY | O_CLOEXEC);
    }
    if (next < 0 && (errno == ELOOP || errno == ENOTDIR)) return link_refused(root, walked);
    if (next < 0)
      return make_failure(errc::io, "cannot open " + (root / walked).string() + ": " + std::strerror(errno));
    dir.reset(next);
  }
  name = parts.back();
  return dir.release();
}

} // namespace

messages::status write_file_under(const fs::path& root, const std::string& rel, std::string_view content, bool sync) {
  std::string name;
  auto parent = open_parent(root, rel, name);
  if (!parent) return parent.error();
  fd_guard dir{*parent};
  fd_guard file{::openat(dir.get(), name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644)};
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

messages::result<int> open_append_under(const fs::path& root, const std::string& rel) {
  std::string name;
  auto parent = open_parent(root, rel, name);
  if (!parent) return parent.error();
  fd_guard dir{*parent};
  int fd = ::openat(dir.get(), name.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
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
