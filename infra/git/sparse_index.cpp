// A worktree's index in git's sparse-index format (git's
// Documentation/technical/index-format.txt, "sparse directory entries"):
// the component's own file as a normal entry, every other file beside it
// marked skip-worktree, and every folder not on its way collapsed into one
// entry (mode 040000, the folder's tree id, skip-worktree; path ending in
// '/'), flagged by the `sdir` extension. With the library in fan-out folders
// that is ~256 + library/256 entries instead of one per file in the library.
//
// git reads it (expanding it in memory unless the worktree opts into
// index.sparse), so `git status` there is clean and `git ls-files -t` shows
// only the component's file present. libgit2 1.5 refuses `sdir` (a mandatory
// extension it does not know): grove never opens a worktree's index with
// libgit2; its commits are built from trees.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <openssl/evp.h>

#include "infra/git/files.hpp"
#include "infra/git/raii.hpp"

namespace fs = std::filesystem;

namespace grove::git::detail {

namespace {

constexpr std::uint16_t extended_flag = 0x4000;      // in the entry's flags: a second flags word follows
constexpr std::uint16_t skip_worktree_flag = 0x4000; // in the second flags word
constexpr std::uint32_t dir_mode = 040000;

struct entry {
  std::string path;
  std::uint32_t mode;
  git_oid id;
  bool skip;
};

void put32(std::string& out, std::uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(b, 4);
}

void put16(std::string& out, std::uint16_t v) {
  char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(b, 2);
}

bool on_the_way(const std::string& folder, const std::vector<std::string>& present) {
  return std::any_of(present.begin(), present.end(),
                     [&](const std::string& p) { return p.size() > folder.size() && p.rfind(folder, 0) == 0; });
}

messages::status collect(git_repository* repo, git_tree* tree, const std::string& prefix,
                         const std::vector<std::string>& present, std::vector<entry>& out) {
  for (size_t i = 0; i < git_tree_entrycount(tree); ++i) {
    const git_tree_entry* e = git_tree_entry_byindex(tree, i);
    std::string path = prefix + git_tree_entry_name(e);
    if (git_tree_entry_type(e) != GIT_OBJECT_TREE) {
      bool here = std::find(present.begin(), present.end(), path) != present.end();
      out.push_back({path, static_cast<std::uint32_t>(git_tree_entry_filemode(e)), *git_tree_entry_id(e), !here});
      continue;
    }
    auto folder = path + "/";
    if (!on_the_way(folder, present)) {
      out.push_back({folder, dir_mode, *git_tree_entry_id(e), true});
      continue;
    }
    git_tree* sub = nullptr;
    if (auto s = check(git_tree_lookup(&sub, repo, git_tree_entry_id(e)), "read tree " + path); !s) return s;
    tree_ptr guard{sub};
    if (auto s = collect(repo, sub, folder, present, out); !s) return s;
  }
  return messages::ok();
}


// Writes one index entry (index-format.txt: no stat data, git compares the content once).
void put_entry(std::string& out, const std::string& path, std::uint32_t mode, const git_oid& id, bool skip) {
  size_t start = out.size();
  out.append(24, '\0'); // ctime, mtime, dev, ino
  put32(out, mode);
  out.append(12, '\0'); // uid, gid, size
  out.append(reinterpret_cast<const char*>(id.id), GIT_OID_RAWSZ);
  put16(out, static_cast<std::uint16_t>(extended_flag | std::min<size_t>(path.size(), 0xfff)));
  put16(out, skip ? skip_worktree_flag : 0);
  out += path;
  // 1 to 8 NULs: the entry's length becomes a multiple of 8.
  out.append(8 - (out.size() - start) % 8, '\0');
}

// The entries under `tree` (at `path`, which ends in '/' or is empty), in
// the tree's own order, written as they come: git orders a tree's entries
// as it orders paths in an index (a folder compares as its name and '/'),
// so a walk of the trees is already in index order. `sorted` turns false
// if a tree breaks that order (only a corrupt one can); the caller then sorts.
struct emitter {
  git_repository* repo;
  const std::vector<std::string>& present;
  std::string& out;
  std::string path;
  std::string last;
  std::uint32_t count = 0;
  bool sorted = true;

  void emit(std::uint32_t mode, const git_oid& id, bool skip) {
    if (!last.empty() && !(last < path)) sorted = false;
    last = path;
    put_entry(out, path, mode, id, skip);
    ++count;
  }

  messages::status walk(git_tree* tree) {
    size_t base = path.size();
    for (size_t i = 0; i < git_tree_entrycount(tree); ++i) {
      const git_tree_entry* e = git_tree_entry_byindex(tree, i);
      path.resize(base);
      path += git_tree_entry_name(e);
      if (git_tree_entry_type(e) != GIT_OBJECT_TREE) {
        bool here = std::find(present.begin(), present.end(), path) != present.end();
        emit(static_cast<std::uint32_t>(git_tree_entry_filemode(e)), *git_tree_entry_id(e), !here);
        continue;
      }
      path += '/';
      if (!on_the_way(path, present)) {
        emit(dir_mode, *git_tree_entry_id(e), true);
        continue;
      }
      git_tree* sub = nullptr;
      if (auto s = check(git_tree_lookup(&sub, repo, git_tree_entry_id(e)), "read tree " + path); !s) return s;
      tree_ptr guard{sub};
      if (auto s = walk(sub); !s) return s;
    }
    path.resize(base);
    return messages::ok();
  }
};

void put_header(std::string& out, std::uint32_t entries) {
  out.append("DIRC", 4);
  put32(out, 3); // version 3: entries may carry the extended flags word
  put32(out, entries);
}

} // namespace

messages::result<std::string> sparse_index_bytes(git_repository* repo, git_tree* tree,
                                                 const std::vector<std::string>& present) {
  std::string out;
  out.reserve(16384);
  put_header(out, 0);
  emitter walker{repo, present, out, {}, {}};
  if (auto s = walker.walk(tree); !s) return s.error();
  if (walker.sorted) {
    std::string count;
    put32(count, walker.count);
    out.replace(8, 4, count);
  } else {
    std::vector<entry> entries;
    if (auto s = collect(repo, tree, "", present, entries); !s) return s.error();
    std::sort(entries.begin(), entries.end(), [](const entry& a, const entry& b) { return a.path < b.path; });
    out.clear();
    put_header(out, static_cast<std::uint32_t>(entries.size()));
    for (auto& e : entries) put_entry(out, e.path, e.mode, e.id, e.skip);
  }
  out.append("sdir", 4);
  put32(out, 0);
  // Fetched once: EVP_sha1() makes OpenSSL 3 look the algorithm up on every digest (~1% of a build).
  static EVP_MD* const sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (sha1 == nullptr || EVP_Digest(out.data(), out.size(), md, &len, sha1, nullptr) != 1 || len != GIT_OID_RAWSZ) {
    return messages::make_failure(messages::errc::git, "cannot hash the worktree's index (OpenSSL SHA-1)");
  }
  out.append(reinterpret_cast<const char*>(md), len);
  return out;
}

std::string cone_patterns(const std::vector<std::string>& present) {
  // Cone mode: the files at the top, and for each folder on the way to a
  // present path its files, its own subfolders excluded but the next one on the way.
  std::string out = "/*\n!/*/\n";
  std::vector<std::string> folders;
  for (auto& p : present) {
    for (auto slash = p.find('/'); slash != std::string::npos; slash = p.find('/', slash + 1)) {
      std::string folder{"/"};
      folder.append(p, 0, slash + 1);
      if (std::find(folders.begin(), folders.end(), folder) == folders.end()) folders.push_back(folder);
    }
  }
  std::sort(folders.begin(), folders.end());
  for (size_t i = 0; i < folders.size(); ++i) {
    out.append(folders[i]).append("\n");
    bool deeper = i + 1 < folders.size() && folders[i + 1].rfind(folders[i], 0) == 0;
    if (deeper) out.append("!").append(folders[i]).append("*/\n");
  }
  return out;
}

messages::status write_sparse_index(git_repository* repo, const fs::path& index_file, git_tree* tree,
                                    const std::vector<std::string>& present) {
  auto bytes = sparse_index_bytes(repo, tree, present);
  if (!bytes) return bytes.error();
  // Written beside and renamed over, as git does: a reader never sees half an index.
  auto lock = index_file.filename().string() + ".lock";
  if (auto s = write_file_under(index_file.parent_path(), lock, *bytes); !s) return s;
  std::error_code ec;
  fs::rename(index_file.parent_path() / lock, index_file, ec);
  if (ec)
    return messages::make_failure(messages::errc::io, "cannot write " + index_file.string() + ": " + ec.message());
  return messages::ok();
}

} // namespace grove::git::detail
