// Whether checking out grove's paths on main could run a libgit2 filter.
//
// libgit2 1.5 ships two filters, crlf and ident. With no attribute for a
// path and core.autocrlf false, both pass the blob through unchanged; yet to
// find that out, git_checkout_tree looks the path's attributes up file by
// file, and each lookup realpaths the file's folder (a readlink per path
// component) and stats a .gitattributes in every folder above it: ~20
// syscalls per component landed. Here the same sources are looked at once per
// update (src/libgit2/attr.c, collect_attr_files): info/attributes, the
// .gitattributes of each folder on the way (the working tree's file, main's
// index, the new tree), core.attributesFile or the XDG attributes file, and
// the system gitattributes.

#include <set>
#include <sys/stat.h>

#include "infra/git/raii.hpp"

namespace grove::git::detail {

namespace {

bool exists_no_follow(const std::string& path) {
  struct stat st {};
  return !path.empty() && ::lstat(path.c_str(), &st) == 0;
}

// `file` in each folder of libgit2's search path for `level` (entries split by ':').
bool in_search_path(git_config_level_t level, const char* file) {
  git_buf buf = GIT_BUF_INIT;
  if (git_libgit2_opts(GIT_OPT_GET_SEARCH_PATH, level, &buf) != 0) return true; // unknown: assume present
  std::string list{buf.ptr != nullptr ? buf.ptr : "", buf.size};
  git_buf_dispose(&buf);
  size_t start = 0;
  while (start <= list.size()) {
    auto end = list.find(':', start);
    if (end == std::string::npos) end = list.size();
    if (end > start && exists_no_follow(list.substr(start, end - start) + "/" + file)) return true;
    start = end + 1;
  }
  return false;
}

// core.autocrlf and core.attributesFile: false/unset and unset, or not known.
bool config_may_filter(git_repository* repo) {
  git_config* cfg = nullptr;
  if (git_repository_config(&cfg, repo) != 0) return true;
  owned<git_config, git_config_free> guard{cfg};
  int autocrlf = 0;
  int rc = git_config_get_bool(&autocrlf, cfg, "core.autocrlf");
  if (rc == 0 && autocrlf != 0) return true;
  if (rc != 0 && rc != GIT_ENOTFOUND) return true; // "input" or unreadable
  git_buf path = GIT_BUF_INIT;
  rc = git_config_get_path(&path, cfg, "core.attributesfile");
  bool set = rc == 0 && exists_no_follow(path.ptr != nullptr ? path.ptr : "");
  git_buf_dispose(&path);
  git_error_clear();
  return set || (rc != 0 && rc != GIT_ENOTFOUND);
}

} // namespace

bool filters_may_apply(git_repository* repo, git_tree* target, const std::vector<std::string>& paths) {
  if (config_may_filter(repo)) return true;
  if (in_search_path(GIT_CONFIG_LEVEL_SYSTEM, "gitattributes") || in_search_path(GIT_CONFIG_LEVEL_XDG, "attributes")) {
    return true;
  }
  std::string common = git_repository_commondir(repo);
  if (exists_no_follow(common + "info/attributes")) return true;
  // Every folder from the top down to each path's own.
  std::set<std::string> folders{""};
  for (const auto& p : paths) {
    for (auto slash = p.find('/'); slash != std::string::npos; slash = p.find('/', slash + 1)) {
      folders.insert(p.substr(0, slash + 1));
    }
  }
  git_index* index = nullptr;
  if (git_repository_index(&index, repo) != 0) return true;
  index_ptr index_guard{index};
  std::string workdir = git_repository_workdir(repo);
  for (const auto& folder : folders) {
    auto rel = folder + ".gitattributes";
    if (exists_no_follow(workdir + rel) || git_index_get_bypath(index, rel.c_str(), 0) != nullptr) return true;
    git_tree_entry* entry = nullptr;
    if (git_tree_entry_bypath(&entry, target, rel.c_str()) == 0) {
      git_tree_entry_free(entry);
      return true;
    }
  }
  git_error_clear();
  return false;
}

} // namespace grove::git::detail
