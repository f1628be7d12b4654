// Component branches (feat/<name>_gen) written as git writes a loose ref,
// without libgit2's reference database.
//
// A component branch lives for one component: created from main, moved by
// each attempt's commit, deleted when it lands or is dropped. Through
// libgit2 each of those is ~35 system calls (the lock, packed-refs checked
// for the name and reloaded when its stat changed, HEAD read to decide on a
// HEAD reflog entry, the branch's reflog created or appended, every folder
// on the way stat'ed): ~50 per component, about a tenth of a build's.
//
// Here, as git does it (refs/files-backend): `<ref>.lock` created with
// O_EXCL (a held lock is EEXIST: somebody else is updating the ref), the
// current value read and compared under the lock, the new value written to
// the lock and renamed over the ref. No reflog is written for these
// branches (nothing reads one; git writes them only by core.logAllRefUpdates
// and does not need them), and one left by an older grove goes with the
// branch. A ref that is not a plain loose ref (packed by `git pack-refs`,
// symbolic) takes libgit2's path: it alone knows packed-refs' rules.
//
// main moves the same way after each merge batch (move_logged_ref), with
// git's reflog lines appended to its reflog and HEAD's: libgit2's update
// took ~100 us each (config snapshots for the reflog and the signature).

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <unordered_set>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "infra/git/raii.hpp"

namespace grove::git::detail {

namespace {

std::string ref_path(git_repository* repo, const std::string& name) {
  std::string p = git_repository_commondir(repo);
  if (!p.empty() && p.back() != '/') p.push_back('/');
  return p.append(name);
}

messages::status os_failure(const std::string& what) {
  return messages::make_failure(messages::errc::git, what + ": " + std::strerror(errno));
}

// The value of a loose ref file: 0 with `out` set, GIT_ENOTFOUND when there
// is no such file, GIT_PASSTHROUGH when it is not 40 hex digits (symbolic,
// or not a ref grove wrote), -1 with errno on a read error.
int read_loose(const std::string& path, git_oid& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return errno == ENOENT ? GIT_ENOTFOUND : (errno == ELOOP ? GIT_PASSTHROUGH : -1);
  char buf[GIT_OID_HEXSZ + 2];
  ssize_t n;
  do n = ::read(fd, buf, sizeof(buf)); while (n < 0 && errno == EINTR);
  int saved = errno;
  ::close(fd);
  if (n < 0) {
    errno = saved;
    return -1;
  }
  if (n < GIT_OID_HEXSZ || (n > GIT_OID_HEXSZ && buf[GIT_OID_HEXSZ] != '\n') || n == static_cast<ssize_t>(sizeof(buf)))
    return GIT_PASSTHROUGH;
  return git_oid_fromstrn(&out, buf, GIT_OID_HEXSZ) == 0 ? 0 : GIT_PASSTHROUGH;
}

// packed-refs' names, parsed again only when the file's identity changes.
struct packed_names {
  std::mutex lock;
  std::string file;
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = -1;
  struct timespec mtime {};
  std::unordered_set<std::string> names;
};

bool in_packed_refs(git_repository* repo, const std::string& name) {
  static packed_names cache;
  auto file = ref_path(repo, "packed-refs");
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return false;
  std::lock_guard<std::mutex> guard{cache.lock};
  if (cache.file != file || cache.dev != st.st_dev || cache.ino != st.st_ino || cache.size != st.st_size ||
      cache.mtime.tv_sec != st.st_mtim.tv_sec || cache.mtime.tv_nsec != st.st_mtim.tv_nsec) {
    cache.names.clear();
    // Unreadable: assume it may hold the name, so libgit2 decides.
    FILE* f = std::fopen(file.c_str(), "re");
    if (f == nullptr) return true;
    char line[4096];
    while (std::fgets(line, sizeof(line), f) != nullptr) {
      std::string_view l{line};
      if (l.size() < GIT_OID_HEXSZ + 2 || l[0] == '#' || l[0] == '^') continue;
      while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.remove_suffix(1);
      cache.names.emplace(l.substr(GIT_OID_HEXSZ + 1));
    }
    std::fclose(f);
    cache.file = file;
    cache.dev = st.st_dev;
    cache.ino = st.st_ino;
    cache.size = st.st_size;
    cache.mtime = st.st_mtim;
  }
  return cache.names.count(name) != 0;
}

// `<path>.lock`, held until release() or destruction (which removes it).
class ref_lock {
public:
  explicit ref_lock(std::string path) : path_(std::move(path) + ".lock") {}
  ref_lock(const ref_lock&) = delete;
  ref_lock& operator=(const ref_lock&) = delete;
  ~ref_lock() {
    if (fd_ >= 0) ::close(fd_);
    if (held_) ::unlink(path_.c_str());
  }
  // 0, GIT_ELOCKED when another writer holds it, -1 with errno otherwise.
  int acquire() {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd_ < 0 && errno == ENOENT) { // refs/heads/feat/ not made yet
      std::error_code ec;
      std::filesystem::create_directories(std::filesystem::path{path_}.parent_path(), ec);
      if (!ec) fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
      else errno = ec.value();
    }
    if (fd_ < 0) return errno == EEXIST ? GIT_ELOCKED : -1;
    held_ = true;
    return 0;
  }
  // Writes `id` and renames the lock over `target`.
  int commit(const std::string& target, const git_oid& id) {
    char line[GIT_OID_HEXSZ + 1];
    git_oid_fmt(line, &id);
    line[GIT_OID_HEXSZ] = '\n';
    ssize_t n;
    do n = ::write(fd_, line, sizeof(line)); while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(sizeof(line))) {
      if (n >= 0) errno = ENOSPC;
      return -1;
    }
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0 || ::rename(path_.c_str(), target.c_str()) != 0) return -1;
    held_ = false;
    return 0;
  }
  const std::string& path() const { return path_; }

private:
  std::string path_;
  int fd_ = -1;
  bool held_ = false;
};

// libgit2's convention for an OS error: -1 with the reason as its last error.
int os_error() {
  git_error_set_str(GIT_ERROR_OS, std::strerror(errno));
  return -1;
}

// Takes `lock` for a move, libgit2's way: 0, GIT_ELOCKED or -1, with the reason set.
int lock_for_move(ref_lock& lock) {
  int rc = lock.acquire();
  if (rc == GIT_ELOCKED) {
    git_error_set_str(GIT_ERROR_REFERENCE, (lock.path() + " exists (another git process is updating it?)").c_str());
    return rc;
  }
  return rc != 0 ? os_error() : 0;
}

messages::status lock_failure(int rc, const ref_lock& lock, const std::string& what) {
  if (rc == GIT_ELOCKED) {
    return messages::make_failure(messages::errc::git,
                                  what + ": " + lock.path() + " exists (another git process is updating it?)");
  }
  return os_failure(what + ": " + lock.path());
}

} // namespace

messages::status create_branch_ref(git_repository* repo, const std::string& name, const git_oid& target) {
  auto path = ref_path(repo, name);
  ref_lock lock{path};
  if (int rc = lock.acquire(); rc != 0) return lock_failure(rc, lock, "create " + name);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 || in_packed_refs(repo, name)) {
    return messages::make_failure(messages::errc::git, "create " + name + ": a reference by that name already exists");
  }
  if (lock.commit(path, target) != 0) return os_failure("create " + name);
  return messages::ok();
}

int move_branch_ref(git_repository* repo, const std::string& name, const git_oid& to, const git_oid& from,
                    const std::string& log) {
  auto path = ref_path(repo, name);
  git_oid current;
  {
    ref_lock lock{path};
    if (int rc = lock_for_move(lock); rc != 0) return rc;
    int rc = read_loose(path, current);
    if (rc == 0) {
      if (!git_oid_equal(&current, &from)) {
        git_error_set_str(GIT_ERROR_REFERENCE, "it moved meanwhile (old reference value does not match)");
        return GIT_EMODIFIED;
      }
      if (lock.commit(path, to) != 0) return os_error();
      return 0;
    }
    if (rc == -1) return os_error();
  } // packed or symbolic: libgit2 takes the lock itself
  git_reference* moved = nullptr;
  int rc = git_reference_create_matching(&moved, repo, name.c_str(), &to, 1, &from, log.c_str());
  git_reference_free(moved);
  return rc;
}

namespace {

// Appends `line` to the reflog at `path` when that file exists (a regular
// file; not followed through a link): 0, GIT_PASSTHROUGH when it does not
// exist, -1 with errno on a failed write.
int append_reflog(const std::string& path, const std::string& line) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return errno == ENOENT || errno == ELOOP ? GIT_PASSTHROUGH : -1;
  ssize_t n;
  do n = ::write(fd, line.data(), line.size()); while (n < 0 && errno == EINTR);
  int saved = n < 0 ? errno : ENOSPC;
  int closed = ::close(fd);
  if (n != static_cast<ssize_t>(line.size())) {
    errno = saved;
    return -1;
  }
  return closed == 0 ? 0 : -1;
}

bool exists_as_file(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

} // namespace

int move_logged_ref(git_repository* repo, const std::string& name, const git_oid& to, const git_oid& from,
                    const std::string& log) {
  auto path = ref_path(repo, name);
  std::string gitdir = git_repository_path(repo); // this worktree's: its HEAD and HEAD's reflog
  // HEAD's reflog gets the entry too when HEAD names this ref, as git and libgit2 do.
  std::string head_ref;
  if (int fd = ::open((gitdir + "HEAD").c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW); fd >= 0) {
    char buf[256];
    ssize_t n;
    do n = ::read(fd, buf, sizeof(buf)); while (n < 0 && errno == EINTR);
    ::close(fd);
    if (n > 0) head_ref.assign(buf, static_cast<size_t>(n));
  }
  bool log_head = head_ref == "ref: " + name + "\n";
  auto ref_log = ref_path(repo, "logs/" + name);
  auto head_log = gitdir + "logs/HEAD";
  // Only the common case: both reflogs there already (libgit2 makes missing ones).
  if (!exists_as_file(ref_log) || (log_head && !exists_as_file(head_log))) return GIT_PASSTHROUGH;
  ref_lock lock{path};
  if (int rc = lock_for_move(lock); rc != 0) return rc;
  git_oid current;
  int rc = read_loose(path, current);
  if (rc == -1) return os_error();
  if (rc != 0) return GIT_PASSTHROUGH; // packed or symbolic: libgit2's rules
  if (!git_oid_equal(&current, &from)) {
    git_error_set_str(GIT_ERROR_REFERENCE, "it moved meanwhile (old reference value does not match)");
    return GIT_EMODIFIED;
  }
  auto sig = signature(repo);
  if (!sig) {
    git_error_set_str(GIT_ERROR_REFERENCE, sig.error().message.c_str());
    return -1;
  }
  const git_signature* who = sig->get();
  char old_hex[GIT_OID_HEXSZ + 1], new_hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(old_hex, sizeof(old_hex), &from);
  git_oid_tostr(new_hex, sizeof(new_hex), &to);
  int offset = who->when.offset;
  char zone[16];
  std::snprintf(zone, sizeof(zone), "%c%02d%02d", offset < 0 ? '-' : '+', std::abs(offset) / 60, std::abs(offset) % 60);
  std::string message = log;
  for (auto& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  // git's reflog line: old new name <email> seconds zone TAB message.
  std::string line = std::string{old_hex} + " " + new_hex + " " + who->name + " <" + who->email + "> " +
                     std::to_string(static_cast<long long>(who->when.time)) + " " + zone + "\t" + message + "\n";
  // As git: the reflogs first, then the ref (its lock renamed over it).
  if (append_reflog(ref_log, line) != 0) return os_error();
  if (log_head && append_reflog(head_log, line) != 0) return os_error();
  if (lock.commit(path, to) != 0) return os_error();
  return 0;
}

messages::result<git_oid> read_branch_ref(git_repository* repo, const std::string& name) {
  git_oid id;
  int rc = read_loose(ref_path(repo, name), id);
  if (rc == 0) return id;
  if (rc == -1) return os_failure("resolve " + name).error();
  if (auto s = check(git_reference_name_to_id(&id, repo, name.c_str()), "resolve " + name); !s) return s.error();
  return id;
}

messages::status delete_branch_ref(git_repository* repo, const std::string& name) {
  auto path = ref_path(repo, name);
  {
    ref_lock lock{path};
    if (int rc = lock.acquire(); rc != 0) return lock_failure(rc, lock, "delete " + name);
    git_oid id;
    int rc = read_loose(path, id);
    if (rc == -1) return os_failure("delete " + name);
    if (rc == 0 && ::unlink(path.c_str()) != 0 && errno != ENOENT) return os_failure("delete " + name);
    auto log = ref_path(repo, "logs/" + name);
    if (::unlink(log.c_str()) != 0 && errno != ENOENT) return os_failure("delete the reflog of " + name);
    if (rc == 0 && !in_packed_refs(repo, name)) return messages::ok();
  } // packed, symbolic or absent: libgit2's delete (which finds nothing when it is gone)
  git_reference* ref = nullptr;
  int rc = git_reference_lookup(&ref, repo, name.c_str());
  if (rc == GIT_ENOTFOUND) return messages::ok();
  if (auto s = check(rc, "lookup " + name); !s) return s;
  reference_ptr guard{ref};
  if (auto s = check(git_reference_delete(ref), "delete " + name); !s) return s;
  rc = git_reflog_delete(repo, name.c_str());
  return rc == GIT_ENOTFOUND ? messages::ok() : check(rc, "delete the reflog of " + name);
}

} // namespace grove::git::detail
