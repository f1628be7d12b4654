#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "messages/names.hpp"
#include "infra/git/files.hpp"
#include "infra/git/git.hpp"
#include "infra/git/raii.hpp"

namespace fs = std::filesystem;

namespace grove::git {

using messages::errc;
using messages::make_failure;
using namespace detail;

namespace {

// Worktree names double as folder names and ref names: refuse anything else.
status require_valid(std::string_view component) {
  if (!messages::is_valid_name(component)) {
    return make_failure(errc::invalid_name,
                        "refusing git work for invalid component name \"" + messages::printable(component) + "\"");
  }
  return messages::ok();
}

// feat/<name>_gen, or a lane's feat/<name>_gen-<n>.
bool is_component_branch(std::string_view n) {
  auto dash = n.rfind('-');
  if (dash != std::string_view::npos && dash + 1 < n.size() &&
      n.find_first_not_of("0123456789", dash + 1) == std::string_view::npos) {
    n = n.substr(0, dash);
  }
  return n.size() > 4 && n.substr(n.size() - 4) == "_gen";
}

void remove_tree(const fs::path& p, std::vector<std::string>* removed) {
  std::error_code ec;
  if (fs::exists(fs::symlink_status(p, ec))) {
    fs::remove_all(p, ec);
    if (removed != nullptr && !ec) removed->push_back(p.string());
  }
}

// Deletes a feat/*_gen branch and its reflog. Not git_branch_delete: that opens
// every worktree to refuse deleting a checked-out branch (O(worktrees) per call,
// quadratic over a job); these branches are grove's own and their worktree goes first.
status delete_branch(git_repository* repo, const std::string& branch) {
  return delete_branch_ref(repo, "refs/heads/" + branch);
}

// Removes a worktree's two folders (its files, its admin folder): what
// `git worktree remove --force` does. Tolerates either being gone or half made.
void remove_worktree_by_name(repository& repo, const std::string& name, std::vector<std::string>* removed_dirs) {
  remove_tree(repo.workdir() / "worktrees" / name, removed_dirs);
  remove_tree(repo.gitdir() / "worktrees" / name, removed_dirs);
}

// Unlinks each of `files` under `root` and the folders on their way while
// they empty, then `root`: what a worktree grove made holds, in ~15 system
// calls instead of remove_all's listing and stat of every folder. Walks with
// O_NOFOLLOW: a link planted inside is never followed (the walk stops, and
// remove_all then takes the link itself away). Anything else left there
// (a file the user made, a lock) also goes to remove_all.
void remove_known(const fs::path& root, const std::vector<std::string>& files, std::vector<std::string>* removed) {
  int top = ::open(root.c_str(), O_DIRECTORY | O_NOFOLLOW | O_RDONLY | O_CLOEXEC);
  if (top < 0) {
    if (errno != ENOENT) remove_tree(root, removed);
    return;
  }
  for (auto& rel : files) {
    auto parts = messages::split(rel, '/');
    std::vector<int> fds{top};
    bool walked = true;
    for (size_t i = 0; i + 1 < parts.size() && walked; ++i) {
      int next = ::openat(fds.back(), parts[i].c_str(), O_DIRECTORY | O_NOFOLLOW | O_RDONLY | O_CLOEXEC);
      if (next < 0)
        walked = false;
      else
        fds.push_back(next);
    }
    if (walked) ::unlinkat(fds.back(), parts.back().c_str(), 0);
    // Back up, taking each folder away while it is empty (rmdir refuses otherwise).
    bool emptied = walked;
    for (size_t i = fds.size() - 1; i > 0; --i) {
      ::close(fds[i]);
      if (emptied) emptied = ::unlinkat(fds[i - 1], parts[i - 1].c_str(), AT_REMOVEDIR) == 0;
    }
  }
  ::close(top);
  if (::rmdir(root.c_str()) == 0) {
    if (removed != nullptr) removed->push_back(root.string());
    return;
  }
  remove_tree(root, removed);
}

// Creates `dir`, whose parent may be missing; fails when it exists already.
status make_new_folder(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0777) == 0) return messages::ok();
  if (errno == ENOENT) {
    std::error_code ec;
    fs::create_directories(dir.parent_path(), ec);
    if (ec) return make_failure(errc::workspace, "cannot create " + dir.parent_path().string() + ": " + ec.message());
    if (::mkdir(dir.c_str(), 0777) == 0) return messages::ok();
  }
  if (errno == EEXIST) return make_failure(errc::git, "it already exists");
  return make_failure(errc::workspace, "cannot create " + dir.string() + ": " + std::strerror(errno));
}

} // namespace

// What `git worktree add -b feat/<c>_gen worktrees/temp_<c> <base>` leaves on
// disk (gitrepository-layout: worktrees/<id>/{HEAD,commondir,gitdir,index}
// and the worktree's .git file), written directly: git_worktree_add opens
// every other worktree to refuse double checkouts, O(worktrees) per add.
result<worktree_info> add_worktree(repository& repo, std::string_view component,
                                   const std::vector<std::string>& checkout_paths, const std::string& base_commit,
                                   uint32_t lane) {
  if (auto s = require_valid(component); !s) return s.error();
  worktree_info info;
  info.component = std::string{component};
  info.lane = lane;
  info.name = worktree_for(component, lane);
  info.branch = branch_for(component, lane);
  info.dir = repo.workdir() / "worktrees" / info.name;

  git_commit* base = nullptr;
  if (base_commit.empty()) {
    auto head = main_commit(repo.raw());
    if (!head) return head.error();
    base = head->release();
  } else {
    auto id = from_hex(base_commit);
    if (!id) return id.error();
    if (auto s = check(git_commit_lookup(&base, repo.raw(), &*id), "lookup base commit"); !s) return s.error();
  }
  commit_ptr base_guard{base};
  info.base_commit = to_hex(*git_commit_id(base));

  auto admin = repo.gitdir() / "worktrees" / info.name;
  // mkdir itself says whether either exists: one call each, and two adds of one name cannot both pass.
  if (auto s = make_new_folder(admin); !s)
    return make_failure(s.error().code, "add worktree " + info.name + ": " + s.error().message);
  if (auto s = make_new_folder(info.dir); !s) {
    ::rmdir(admin.c_str());
    return make_failure(s.error().code, "add worktree " + info.name + ": " + s.error().message);
  }
  auto ref_name = "refs/heads/" + info.branch;
  if (auto s = create_branch_ref(repo.raw(), ref_name, *git_commit_id(base)); !s) {
    ::rmdir(info.dir.c_str());
    ::rmdir(admin.c_str());
    return s.error();
  }

  auto fail = [&](const messages::failure& f) -> result<worktree_info> {
    remove_worktree_by_name(repo, info.name, nullptr);
    // The failure reported is the first one; a branch left behind is removed by remove_stale.
    (void)delete_branch(repo.raw(), info.branch);
    return make_failure(f.code, "add worktree " + info.name + ": " + f.message);
  };
  auto worktree_git = fs::absolute(info.dir) / ".git";
  if (auto s = write_files_under(admin, {{"commondir", "../..\n"},
                                         {"gitdir", worktree_git.string() + "\n"},
                                         {"HEAD", "ref: " + ref_name + "\n"},
                                         {"info/sparse-checkout", cone_patterns(checkout_paths)}});
      !s) {
    return fail(s.error());
  }
  // Check out only the paths asked for (the component's file, when main has it).
  git_tree* tree = nullptr;
  if (auto s = check(git_commit_tree(&tree, base), "base tree"); !s) return fail(s.error());
  tree_ptr tree_guard{tree};
  std::vector<std::pair<std::string, std::string>> present;
  for (auto& path : checkout_paths) {
    git_tree_entry* e = nullptr;
    if (git_tree_entry_bypath(&e, tree, path.c_str()) != 0) continue;
    git_blob* blob = nullptr;
    int rc = git_blob_lookup(&blob, repo.raw(), git_tree_entry_id(e));
    git_tree_entry_free(e);
    if (auto s = check(rc, "read " + path); !s) return fail(s.error());
    present.emplace_back(path, std::string{static_cast<const char*>(git_blob_rawcontent(blob)),
                                           static_cast<size_t>(git_blob_rawsize(blob))});
    git_blob_free(blob);
  }
  present.emplace_back(".git", "gitdir: " + fs::absolute(admin).string() + "\n");
  if (auto s = write_files_under(info.dir, present); !s) return fail(s.error());
  if (auto s = write_sparse_index(repo.raw(), admin / "index", tree, checkout_paths); !s) return fail(s.error());
  return info;
}

result<std::string> branch_head(repository& repo, const worktree_info& wt) {
  auto id = read_branch_ref(repo.raw(), "refs/heads/" + wt.branch);
  if (!id) return id.error();
  return to_hex(*id);
}

result<std::string> commit_in_worktree(repository& repo, worktree_info& wt,
                                       const std::vector<std::pair<std::string, std::string>>& files,
                                       const std::string& message, const std::string& onto) {
  git_repository* raw = repo.raw();
  if (auto s = write_files_under(wt.dir, files); !s) return s.error();
  auto ref_name = "refs/heads/" + wt.branch;
  auto head = read_branch_ref(raw, ref_name);
  if (!head) return head.error();
  git_oid head_id = *head;
  // A rebase's parent is the main commit it lands on; otherwise the branch's head.
  git_oid parent_id = head_id;
  if (!onto.empty()) {
    auto id = from_hex(onto);
    if (!id) return id.error();
    parent_id = *id;
  }
  git_commit* parent = nullptr;
  if (auto s = check(git_commit_lookup(&parent, raw, &parent_id), "lookup worktree HEAD"); !s) {
    return s.error();
  }
  commit_ptr parent_guard{parent};
  git_tree* base_tree = nullptr;
  if (auto s = check(git_commit_tree(&base_tree, parent), "read worktree tree"); !s) return s.error();
  tree_ptr base_guard{base_tree};
  fresh_writes fresh; // what this commit writes, verify_stored need not look for
  auto tree_id = tree_with_files(raw, base_tree, files);
  if (!tree_id) return tree_id.error();
  git_tree* tree = nullptr;
  if (auto s = check(git_tree_lookup(&tree, raw, &*tree_id), "lookup new tree"); !s) return s.error();
  tree_ptr tree_guard{tree};
  auto sig = signature(raw);
  if (!sig) return sig.error();
  auto made = create_commit(raw, sig->get(), message, tree, {parent});
  if (!made) return messages::make_failure(made.error().code, "commit in " + wt.name + ": " + made.error().message);
  git_oid commit_id = *made;
  std::vector<std::string> paths;
  for (auto& f : files) paths.push_back(f.first);
  if (auto s = verify_stored(raw, commit_id, paths); !s) return s.error();
  // The worktree's branch moves, only if nobody moved it meanwhile.
  if (auto s = check(move_branch_ref(raw, ref_name, commit_id, head_id, "commit: " + message), "move " + wt.branch);
      !s) {
    return s.error();
  }
  // Keep the worktree's index in step with its branch, so `git status` there is truthful.
  std::vector<std::string> present;
  for (auto& f : files) present.push_back(f.first);
  if (auto s = write_sparse_index(raw, repo.gitdir() / "worktrees" / wt.name / "index", tree, present); !s)
    return s.error();
  if (!onto.empty()) wt.base_commit = onto;
  return to_hex(commit_id);
}

namespace {

// The blob id of `path` in `c`'s tree; false when it has none.
bool blob_at(git_commit* c, const std::string& path, git_oid& out) {
  git_tree* t = nullptr;
  if (git_commit_tree(&t, c) < 0) return false;
  tree_ptr guard{t};
  git_tree_entry* e = nullptr;
  if (git_tree_entry_bypath(&e, t, path.c_str()) < 0) return false;
  git_oid_cpy(&out, git_tree_entry_id(e));
  git_tree_entry_free(e);
  return true;
}

// The value of a "Key: value" line of a commit message; empty when absent.
std::string trailer(std::string_view message, std::string_view key) {
  for (auto& line : messages::split(message, '\n')) {
    if (line.size() > key.size() + 1 && line.compare(0, key.size(), key) == 0 && line[key.size()] == ':') {
      auto v = line.substr(key.size() + 1);
      while (!v.empty() && v.front() == ' ') v.erase(0, 1);
      return v;
    }
  }
  return {};
}

} // namespace

change_origin find_change_origin(repository& repo, const std::string& from, const std::string& to,
                                 const std::string& path) {
  change_origin out;
  auto from_id = from_hex(from), to_id = from_hex(to);
  if (!from_id || !to_id) return out;
  git_repository* raw = repo.raw();
  git_commit* c = nullptr;
  if (git_commit_lookup(&c, raw, &*to_id) < 0) return out;
  commit_ptr cur{c};
  git_oid want;
  if (!blob_at(cur.get(), path, want)) return out;
  // Down main's first parents to `from` (bounded), to the merge whose first parent lacks `want`.
  for (int steps = 0; steps < 4096 && !git_oid_equal(git_commit_id(cur.get()), &*from_id); ++steps) {
    if (git_commit_parentcount(cur.get()) == 0) return out;
    git_commit* first = nullptr;
    if (git_commit_parent(&first, cur.get(), 0) < 0) return out;
    commit_ptr first_guard{first};
    git_oid had;
    if (blob_at(first, path, had) && git_oid_equal(&had, &want)) {
      cur = std::move(first_guard);
      continue;
    }
    // This merge brought it: from the parent whose tree holds it.
    for (unsigned i = 1; i < git_commit_parentcount(cur.get()); ++i) {
      git_commit* p = nullptr;
      if (git_commit_parent(&p, cur.get(), i) < 0) continue;
      commit_ptr pg{p};
      git_oid there;
      if (blob_at(p, path, there) && git_oid_equal(&there, &want)) {
        out.job = trailer(git_commit_message(p), "Job");
        out.instruction = trailer(git_commit_message(p), "Instruction");
        return out;
      }
    }
    return out;
  }
  return out;
}

status remove_worktree(repository& repo, std::string_view component, uint32_t lane) {
  if (auto s = require_valid(component); !s) return s;
  auto name = worktree_for(component, lane);
  remove_known(repo.workdir() / "worktrees" / name, {".git", component_path(component)}, nullptr);
  remove_known(repo.gitdir() / "worktrees" / name, {"HEAD", "commondir", "gitdir", "index", "info/sparse-checkout"},
               nullptr);
  return delete_branch(repo.raw(), branch_for(component, lane));
}

result<cleanup_report> remove_stale(repository& repo) {
  cleanup_report report;
  git_strarray names{};
  if (auto s = check(git_worktree_list(&names, repo.raw()), "list worktrees"); !s) return s.error();
  std::vector<std::string> registered(names.strings, names.strings + names.count);
  git_strarray_dispose(&names);
  for (auto& name : registered) {
    if (name.rfind("temp_", 0) == 0) {
      remove_worktree_by_name(repo, name, nullptr);
      report.worktrees.push_back(name);
    }
  }
  // Half-created worktrees: folders that no registered worktree owns.
  for (auto base : {repo.workdir() / "worktrees", repo.gitdir() / "worktrees"}) {
    std::error_code ec;
    if (!fs::is_directory(base, ec)) continue;
    for (auto& entry : fs::directory_iterator{base, ec}) {
      auto name = entry.path().filename().string();
      if (name.rfind("temp_", 0) == 0) remove_tree(entry.path(), &report.directories);
    }
  }
  git_branch_iterator* it = nullptr;
  if (auto s = check(git_branch_iterator_new(&it, repo.raw(), GIT_BRANCH_LOCAL), "list branches"); !s) {
    return s.error();
  }
  branch_iterator_ptr it_guard{it};
  std::vector<std::string> stale;
  git_reference* ref = nullptr;
  git_branch_t type;
  while (git_branch_next(&ref, &type, it) == 0) {
    reference_ptr guard{ref};
    const char* name = nullptr;
    if (git_branch_name(&name, ref) == 0) {
      std::string_view n{name};
      if (n.rfind("feat/", 0) == 0 && n.size() > 9 && is_component_branch(n)) stale.emplace_back(n);
    }
  }
  for (auto& b : stale) {
    if (auto s = delete_branch(repo.raw(), b); !s) return s.error();
    report.branches.push_back(b);
  }
  return report;
}

} // namespace grove::git
