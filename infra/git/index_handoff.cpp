// main's index, parsed once per process: the start reads it to prove output/
// in step (integrity.cpp), and hands it to the integrator's repository
// handle, which would otherwise parse the same file again (~1 MB and a
// SHA-1 at 10,000 components). Taken only while the file on disk is the one
// that was read: git and libgit2 replace an index by renaming a new file
// over it, so the same inode, size and times mean the same bytes.

#include <mutex>
#include <sys/stat.h>

#include <git2/sys/repository.h>

#include "infra/git/raii.hpp"

namespace grove::git::detail {

namespace {

struct offer {
  std::mutex lock;
  std::string file;
  struct stat seen {};
  git_index* index = nullptr; // one reference, ours
};

offer& slot() {
  // Never destroyed: a detached actor may still be adopting while the process exits.
  static auto* o = new offer;
  return *o;
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
         a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

} // namespace

void offer_index(const std::string& file, const struct stat& before, git_index* index) {
  auto& o = slot();
  std::lock_guard<std::mutex> guard{o.lock};
  if (o.index != nullptr) git_index_free(o.index);
  o.file = file;
  o.seen = before;
  o.index = index;
}

bool adopt_offered_index(git_repository* repo) {
  auto& o = slot();
  std::lock_guard<std::mutex> guard{o.lock};
  std::string file = std::string{git_repository_path(repo)} + "index";
  // Another workspace's (several nodes in one process): left for its own integrator.
  if (o.index == nullptr || file != o.file) return false;
  git_index* index = o.index;
  o.index = nullptr;
  struct stat now {};
  bool same = ::stat(file.c_str(), &now) == 0 && same_file(now, o.seen);
  if (same) git_repository_set_index(repo, index); // the repository takes its own reference
  git_index_free(index);
  return same;
}

} // namespace grove::git::detail
