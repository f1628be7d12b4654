// What changed between two trees, walking only the folders whose ids differ.
// git_diff_tree_to_tree expands every folder of both trees into its files
// (O(files in the library) per call, whatever changed); a merge of one
// component changes one fan-out folder, so this walk reads four small trees.

#include "infra/git/raii.hpp"

namespace grove::git::detail {

namespace {

bool is_tree(const git_tree_entry* e) {
  return e != nullptr && git_tree_entry_type(e) == GIT_OBJECT_TREE;
}

messages::status lookup(git_repository* repo, const git_tree_entry* e, tree_ptr& out) {
  git_tree* t = nullptr;
  if (auto s = check(git_tree_lookup(&t, repo, git_tree_entry_id(e)), "read tree"); !s) return s;
  out.reset(t);
  return messages::ok();
}

messages::status walk(git_repository* repo, git_tree* a, git_tree* b, const std::string& prefix,
                      std::vector<tree_change>& out);

// `old_e` and/or `new_e` (same name): a file changed, or a folder to walk.
messages::status compare(git_repository* repo, const git_tree_entry* old_e, const git_tree_entry* new_e,
                         const std::string& prefix, std::vector<tree_change>& out) {
  const git_tree_entry* any = old_e != nullptr ? old_e : new_e;
  std::string path = prefix + git_tree_entry_name(any);
  if (is_tree(old_e) || is_tree(new_e)) {
    // Names compare with a folder as "name/": both sides here are folders, or one side is absent.
    tree_ptr ot, nt;
    if (old_e != nullptr) {
      if (auto s = lookup(repo, old_e, ot); !s) return s;
    }
    if (new_e != nullptr) {
      if (auto s = lookup(repo, new_e, nt); !s) return s;
    }
    return walk(repo, ot.get(), nt.get(), path + "/", out);
  }
  tree_change c;
  c.path = std::move(path);
  if (old_e != nullptr) {
    c.old_id = *git_tree_entry_id(old_e);
    c.old_mode = git_tree_entry_filemode(old_e);
  }
  if (new_e != nullptr) {
    c.new_id = *git_tree_entry_id(new_e);
    c.new_mode = git_tree_entry_filemode(new_e);
  }
  out.push_back(std::move(c));
  return messages::ok();
}

messages::status walk(git_repository* repo, git_tree* a, git_tree* b, const std::string& prefix,
                      std::vector<tree_change>& out) {
  size_t na = a != nullptr ? git_tree_entrycount(a) : 0;
  size_t nb = b != nullptr ? git_tree_entrycount(b) : 0;
  size_t i = 0, j = 0;
  while (i < na || j < nb) {
    const git_tree_entry* ea = i < na ? git_tree_entry_byindex(a, i) : nullptr;
    const git_tree_entry* eb = j < nb ? git_tree_entry_byindex(b, j) : nullptr;
    // git's tree order (a folder sorts as "name/"), the order entries are stored in.
    int c = ea == nullptr ? 1 : eb == nullptr ? -1 : git_tree_entry_cmp(ea, eb);
    messages::status s = messages::ok();
    if (c < 0) {
      s = compare(repo, ea, nullptr, prefix, out);
      ++i;
    } else if (c > 0) {
      s = compare(repo, nullptr, eb, prefix, out);
      ++j;
    } else {
      bool same = git_oid_equal(git_tree_entry_id(ea), git_tree_entry_id(eb)) &&
                  git_tree_entry_filemode(ea) == git_tree_entry_filemode(eb);
      if (!same) s = compare(repo, ea, eb, prefix, out);
      ++i;
      ++j;
    }
    if (!s) return s;
  }
  return messages::ok();
}

} // namespace

messages::result<std::vector<tree_change>> tree_changes(git_repository* repo, git_tree* from, git_tree* to) {
  std::vector<tree_change> out;
  if (auto s = walk(repo, from, to, "", out); !s) return s.error();
  return out;
}

} // namespace grove::git::detail
