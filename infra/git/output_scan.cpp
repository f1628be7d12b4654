// The start's look at output/ in its common case: main's tree, the index and
// the files agree. Proving that takes one walk of main's tree beside the
// index (both in git's order: no map built), then one readdir per folder and
// one fstatat per file relative to its folder (each folder opened name by
// name with O_NOFOLLOW), on two threads, comparing what git's index records of each file; only files whose stat
// data cannot prove them unchanged (written in the index's own clock tick)
// are read and hashed. Anything else (a file or folder the index does not
// list, a link, a different stat, a staged change) answers "not proven", and
// the caller runs libgit2's full status, which sorts each difference. So
// this only ever makes a clean start cheaper: it never calls a change clean
// that git would report.

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "infra/git/files.hpp"
#include "infra/git/raii.hpp"

namespace grove::git::detail {

namespace {

constexpr const char* top = "output";

// One folder under output/ as main and the index have it: its files (name,
// entry) and its subfolders, each in git's order (bytewise, within a folder).
struct folder {
  std::string rel; // "output/components/00"
  std::vector<std::pair<const char*, const git_index_entry*>> files;
  std::vector<std::string> subfolders;
};

struct by_name {
  bool operator()(const std::pair<const char*, const git_index_entry*>& a, const char* b) const {
    return std::strcmp(a.first, b) < 0;
  }
};

// Walks main's tree `t` (the folder `out.back()`) beside the index from `pos`:
// every blob must be the next index entry, same path, id and mode, stage 0.
bool walk_beside(git_repository* repo, git_index* index, const git_tree* t, size_t& pos,
                 std::vector<folder>& out, std::string& path) {
  size_t me = out.size() - 1;
  size_t n = git_index_entrycount(index);
  size_t base = path.size();
  for (size_t i = 0, count = git_tree_entrycount(t); i < count; ++i) {
    const git_tree_entry* te = git_tree_entry_byindex(t, i);
    path.resize(base);
    path += git_tree_entry_name(te);
    if (git_tree_entry_type(te) == GIT_OBJECT_TREE) {
      git_tree* sub = nullptr;
      if (git_tree_lookup(&sub, repo, git_tree_entry_id(te)) != 0) return false;
      tree_ptr guard{sub};
      out[me].subfolders.emplace_back(git_tree_entry_name(te));
      out.push_back(folder{path, {}, {}});
      path += '/';
      if (!walk_beside(repo, index, sub, pos, out, path)) return false;
      continue;
    }
    if (git_tree_entry_type(te) != GIT_OBJECT_BLOB || pos >= n) return false;
    const git_index_entry* e = git_index_get_byindex(index, pos++);
    if (path != e->path || GIT_INDEX_ENTRY_STAGE(e) != 0 ||
        (e->flags_extended & (GIT_INDEX_ENTRY_INTENT_TO_ADD | GIT_INDEX_ENTRY_SKIP_WORKTREE)) != 0 ||
        !git_oid_equal(&e->id, git_tree_entry_id(te)) || e->mode != git_tree_entry_filemode(te)) {
      return false;
    }
    out[me].files.emplace_back(e->path + base, e);
  }
  path.resize(base);
  return true;
}

bool same_time(const git_index_time& t, const struct timespec& s) {
  return t.seconds == static_cast<int32_t>(s.tv_sec) && t.nanoseconds == static_cast<uint32_t>(s.tv_nsec);
}

// git's "racily clean": modified in the same tick the index was written, so
// equal stat data does not prove equal content.
bool racy(const git_index_entry& e, const struct timespec& index_mtime) {
  if (e.mtime.seconds != static_cast<int32_t>(index_mtime.tv_sec)) {
    return e.mtime.seconds > static_cast<int32_t>(index_mtime.tv_sec);
  }
  return e.mtime.nanoseconds >= static_cast<uint32_t>(index_mtime.tv_nsec);
}

bool content_is(int dir, const char* name, const git_oid& id) {
  fd_guard f{::openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)};
  if (f.get() < 0) return false;
  std::string content;
  char buf[16384];
  for (;;) {
    auto n = ::read(f.get(), buf, sizeof buf);
    if (n < 0) return false;
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
  }
  git_oid got;
  return git_odb_hash(&got, content.data(), content.size(), GIT_OBJECT_BLOB) == 0 && git_oid_equal(&got, &id);
}

// What git compares (ie_match_stat), stricter: ctime and the inode always;
// not the device, which libgit2 leaves 0 in entries of some of its writes.
bool file_matches(int dir, const char* name, const struct stat& st, const git_index_entry& e,
                  const struct timespec& index_mtime) {
  if (!S_ISREG(st.st_mode)) return false;
  bool exec = (st.st_mode & S_IXUSR) != 0;
  if (e.mode != (exec ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB)) return false;
  if (!same_time(e.mtime, st.st_mtim) || !same_time(e.ctime, st.st_ctim)) return false;
  if (e.file_size != static_cast<uint32_t>(st.st_size) || e.ino != static_cast<uint32_t>(st.st_ino) ||
      e.uid != st.st_uid || e.gid != st.st_gid) {
    return false;
  }
  return !racy(e, index_mtime) || content_is(dir, name, e.id);
}

// Opens the folder `rel` under `root` one name at a time, never through a link.
int open_folder(int root, const std::string& rel) {
  int fd = ::dup(root);
  for (size_t from = 0; fd >= 0 && from < rel.size();) {
    auto slash = rel.find('/', from);
    if (slash == std::string::npos) slash = rel.size();
    int next = ::openat(fd, rel.substr(from, slash - from).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    ::close(fd);
    fd = next;
    from = slash + 1;
  }
  return fd;
}

// The folder on disk holds exactly its files, each unchanged, and its
// subfolders (real folders, checked on their own), nothing else.
bool folder_matches(int root, const folder& f, const struct timespec& index_mtime) {
  fd_guard dir{open_folder(root, f.rel)};
  if (dir.get() < 0) return false;
  int listing = ::dup(dir.get());
  if (listing < 0) return false;
  DIR* d = ::fdopendir(listing);
  if (d == nullptr) {
    ::close(listing);
    return false;
  }
  std::unique_ptr<DIR, int (*)(DIR*)> guard{d, ::closedir};
  size_t seen = 0;
  while (auto* ent = ::readdir(d)) {
    const char* name = ent->d_name;
    if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
    struct stat st {};
    if (::fstatat(dir.get(), name, &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
    if (S_ISDIR(st.st_mode)) {
      if (std::find(f.subfolders.begin(), f.subfolders.end(), name) == f.subfolders.end()) return false;
      continue;
    }
    auto it = std::lower_bound(f.files.begin(), f.files.end(), name, by_name{});
    if (it == f.files.end() || std::strcmp(it->first, name) != 0) return false;
    if (!file_matches(dir.get(), name, st, *it->second, index_mtime)) return false;
    ++seen;
  }
  return seen == f.files.size();
}

} // namespace

bool output_in_step(git_repository* repo, git_index* index, git_tree* main_tree) {
  std::string index_file = std::string{git_repository_path(repo)} + "index";
  struct stat ist {};
  if (::stat(index_file.c_str(), &ist) != 0) return false;

  // main's files under output/ and the index's are the same (no staged change).
  std::vector<folder> folders{folder{top, {}, {}}};
  std::string prefix = std::string{top} + "/";
  size_t pos = 0;
  bool indexed = git_index_find_prefix(&pos, index, prefix.c_str()) == 0;
  git_tree_entry* sub = nullptr;
  if (git_tree_entry_bypath(&sub, main_tree, top) == 0) {
    owned<git_tree_entry, git_tree_entry_free> sub_guard{sub};
    git_tree* t = nullptr;
    if (git_tree_entry_type(sub) != GIT_OBJECT_TREE || git_tree_lookup(&t, repo, git_tree_entry_id(sub)) != 0) {
      return false;
    }
    tree_ptr t_guard{t};
    if (!indexed) return false;
    std::string path = prefix;
    if (!walk_beside(repo, index, t, pos, folders, path)) return false;
  }
  if (pos < git_index_entrycount(index) && indexed &&
      std::strncmp(git_index_get_byindex(index, pos)->path, prefix.c_str(), prefix.size()) == 0) {
    return false; // the index has more under output/ than main
  }

  // The files: each there, each unchanged, nothing else; the folders shared between two threads.
  fd_guard root{::open(git_repository_workdir(repo), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (root.get() < 0) return false;
  struct stat ost {};
  if (::fstatat(root.get(), top, &ost, AT_SYMLINK_NOFOLLOW) != 0) return errno == ENOENT && folders.size() == 1 && folders[0].files.empty();
  if (!S_ISDIR(ost.st_mode)) return false;
  std::atomic<size_t> next{0};
  std::atomic<bool> ok{true};
  auto work = [&] {
    for (size_t i = next++; i < folders.size() && ok; i = next++) {
      if (!folder_matches(root.get(), folders[i], ist.st_mtim)) ok = false;
    }
  };
  if (folders.size() > 16 && std::thread::hardware_concurrency() > 1) {
    std::thread helper{work};
    work();
    helper.join();
  } else {
    work();
  }
  return ok;
}

} // namespace grove::git::detail
