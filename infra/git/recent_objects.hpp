#pragma once

// The objects this process wrote lately, kept in memory per repository and
// offered to libgit2 as the first place to look (odb_tuning.cpp): a
// component's commit reads back, right away and often through another
// handle, the trees and commit it just wrote (verify_stored, the sparse
// index, the merge, the main checkout), each read a loose object file
// (five system calls and an inflate), ~14 per component.
//
// Only objects whose write succeeded are held, bounded in bytes; an entry
// is forgotten after `ttl` so that a prune by something else (a
// `git gc --prune=now` beside grove) is believed soon, and all of a
// repository's entries go when grove itself removes unreachable objects
// (repack_all) or its last handle closes.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <git2.h>

namespace grove::git::detail {

class recent_objects {
public:
  static constexpr size_t max_bytes = 16u << 20;
  static constexpr size_t max_object = 256u << 10;
  static constexpr std::chrono::seconds ttl{30};

  /// The cache of the repository whose object folder is `objects_dir`,
  /// shared by every handle open on it.
  static std::shared_ptr<recent_objects> of(const std::string& objects_dir);
  /// Drops every entry of that repository (objects may have been removed).
  static void forget(const std::string& objects_dir);

  void remember(const git_oid& id, git_object_t type, const void* data, size_t len);
  /// Copies the object into `buf` (allocated with git_odb_backend_data_alloc for `backend`).
  bool read(const git_oid& id, git_odb_backend* backend, void** buf, size_t* len, git_object_t* type);
  bool header(const git_oid& id, size_t* len, git_object_t* type);
  bool has(const git_oid& id);
  void clear();

  struct state;
  explicit recent_objects(std::unique_ptr<state> s);
  ~recent_objects();

private:
  std::unique_ptr<state> s_;
};

} // namespace grove::git::detail
