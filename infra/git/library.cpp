// The library's layout on main: moving a workspace made before the fan-out
// folders (output/components/<name>.json) into them, once.

#include "infra/git/git.hpp"
#include "infra/git/raii.hpp"
#include "logic/library.hpp"

namespace grove::git {

using messages::errc;
using messages::make_failure;
using namespace detail;

result<size_t> migrate_flat_library(repository& repo) {
  auto head = main_commit(repo.raw());
  if (!head) return head.error();
  git_tree* root = nullptr;
  if (auto s = check(git_commit_tree(&root, head->get()), "read main's tree"); !s) return s.error();
  tree_ptr root_guard{root};
  git_tree_entry* dir = nullptr;
  if (git_tree_entry_bypath(&dir, root, "output/components") != 0) return size_t{0};
  owned<git_tree_entry, git_tree_entry_free> dir_guard{dir};
  if (git_tree_entry_type(dir) != GIT_OBJECT_TREE) return size_t{0};
  git_tree* components = nullptr;
  if (auto s = check(git_tree_lookup(&components, repo.raw(), git_tree_entry_id(dir)), "read output/components"); !s) {
    return s.error();
  }
  tree_ptr components_guard{components};
  std::vector<std::pair<std::string, std::string>> moved;
  std::vector<std::string> removed;
  for (size_t i = 0; i < git_tree_entrycount(components); ++i) {
    const git_tree_entry* e = git_tree_entry_byindex(components, i);
    // Only grove's own files (a component naming itself): any other file stays where it is.
    if (git_tree_entry_filemode(e) != GIT_FILEMODE_BLOB) continue;
    std::string file = git_tree_entry_name(e);
    git_blob* blob = nullptr;
    if (auto s = check(git_blob_lookup(&blob, repo.raw(), git_tree_entry_id(e)), "read " + file); !s) {
      return s.error();
    }
    std::string content{static_cast<const char*>(git_blob_rawcontent(blob)),
                        static_cast<size_t>(git_blob_rawsize(blob))};
    git_blob_free(blob);
    auto name = logic::library::flat_name(file, content);
    if (name.empty()) continue;
    moved.emplace_back(component_path(name), std::move(content));
    removed.push_back(std::string{"output/components/"} + git_tree_entry_name(e));
  }
  if (moved.empty()) return size_t{0};
  auto handle = repository::open(repo.workdir());
  if (!handle) return handle.error();
  main_writer writer{std::move(*handle)};
  auto id = writer.commit_files("grove: move the library into fan-out folders (output/components/<xx>/<name>.json)",
                                moved, removed);
  if (!id) return id.error();
  if (!writer.last_sync_error().empty()) {
    return make_failure(errc::workspace,
                        "the library moved on main but output/ did not follow: " + writer.last_sync_error());
  }
  return moved.size();
}

} // namespace grove::git
