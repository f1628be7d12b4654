#pragma once

// A three-way merge of a component's JSON (issue 13's rebase): what a branch
// changed since its base, laid over what `main` changed meanwhile. Fields are
// merged by themselves (a field changed on one side only takes that side);
// "html" and "css", changed on both, are merged by lines with libgit2's
// git_merge_file. A hunk both sides changed is a conflict, except when both
// sides only added lines: then both insertions are kept (the builtin
// resolver). Not wired into the job flow yet.

#include <string>
#include <string_view>
#include <vector>

#include "messages/errors.hpp"

namespace grove::git {

/// What merging three versions of a component gave.
struct component_merge {
  std::string text;                   ///< the merged component (JSON), when clean
  std::vector<std::string> conflicts; ///< fields both sides changed that did not merge ("html", "metadata.title")
  bool kept_both_insertions = false;  ///< a hunk both sides added to was resolved by keeping both
  bool clean() const { return conflicts.empty(); }
};

/// Merges `ours` and `theirs`, two versions of a component descended from
/// `base`. "version" is taken as the higher of the two (the caller sets the
/// version that lands). Invalid JSON on any side is an error.
messages::result<component_merge> merge_component(std::string_view base, std::string_view ours,
                                                  std::string_view theirs);

/// A line merge of three texts with git_merge_file; `clean` false when a hunk
/// both sides changed differently remains (then `text` holds no markers: it is empty).
struct line_merge {
  bool clean = false;
  std::string text;
};
line_merge merge_lines(std::string_view base, std::string_view ours, std::string_view theirs,
                       bool union_of_both = false);

} // namespace grove::git
