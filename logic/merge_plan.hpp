#pragma once

// How a batch of component branches lands on main, decided from what each
// branch changed: pure, so the rule is tested without a repository. The git
// layer (infra/git/main_writer.cpp) reads the diffs and carries the plan out.

#include <cstddef>
#include <string>
#include <vector>

namespace grove::logic::merge {

/// One file a branch changed since its base.
struct changed_file {
  std::string path;
  bool added_or_modified = true; ///< false: deleted, renamed, a mode or type change
  bool main_unchanged = true;    ///< main still holds the base's version (for an added file: no file)
};

/// What one branch changed; `readable` false when its diff could not be read.
struct branch_diff {
  std::vector<changed_file> files;
  bool readable = true;
};

/// The plan for a batch: octopus merge commits (each a group of branch
/// indexes, batch order kept) and the branches merged one by one with a
/// three-way merge after them.
struct batch_plan {
  std::vector<std::vector<size_t>> octopus;
  std::vector<size_t> three_way;
};

/// A branch joins an octopus group when it only adds or modifies files that
/// main has not changed since the branch's base and that no earlier branch of
/// the batch touches; a group holds at most `max_parents` branches (git has
/// no limit, history viewers draw every parent). Every other branch needs a
/// three-way merge.
batch_plan plan_batch(const std::vector<branch_diff>& branches, size_t max_parents);

} // namespace grove::logic::merge
