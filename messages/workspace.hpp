#pragma once

// Worktrees, the QA gate, the integrator, the composer and name leases.
// Plain structs with a CAF 0.17 `inspect`, registered in registry.cpp.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/plan.hpp"

namespace grove::messages {

/// Ask a worktree actor to create its branch and worktree.
struct worktree_open {
  std::string base_commit; ///< empty: the current `main`
  bool operator==(const worktree_open&) const = default;
};

/// Ask a worktree actor to write and commit an artifact; replies the commit id.
struct worktree_commit {
  std::string artifact;
  uint32_t attempt = 0;
  std::string onto{};        ///< a main commit: the commit's parent is it, not the branch (a rebase); empty: the branch
  std::string job{};         ///< the job, kept in the commit message (a conflict names it)
  std::string instruction{}; ///< an edit's instruction, kept in the commit message (the resolver reads it)
  std::string resolved_by{}; ///< a rebase's resolver, when one resolved a conflict (the commit says so)
  bool operator==(const worktree_commit&) const = default;
};

/// Ask a worktree actor to lay its branch's change over what `main` changed
/// since the branch's base (a three-way merge of the component's JSON).
struct worktree_rebase {
  std::string job; ///< this job, in the rebase commit's message
  std::string instruction;
  bool operator==(const worktree_rebase&) const = default;
};

/// What a rebase gave: when clean, the rebased commit on top of `onto`;
/// otherwise the conflict and the three versions a resolver needs.
struct rebase_outcome {
  bool clean = false;
  std::string onto;   ///< the main commit the rebase is onto
  std::string commit; ///< the rebased commit (clean)
  std::string merged; ///< the merged component (clean), its version main's + 1
  bool kept_both_insertions = false;
  std::vector<std::string> conflicts; ///< the fields both sides changed that did not merge
  std::string base, ours, theirs;     ///< the component at the branch's base, on the branch, on main
  std::string their_job;              ///< the job whose change main holds (from its commit), if known
  std::string their_instruction;
  bool operator==(const rebase_outcome&) const = default;
};

/// Ask a worktree actor to prune its worktree and delete its branch.
struct worktree_remove {
  bool merged = false;
  bool operator==(const worktree_remove&) const = default;
};

/// Ask the QA agent to check an artifact.
struct qa_request {
  std::string component;
  std::string artifact;
  std::string description{}; ///< the plan's description: what the reviewer holds the component to
  std::string job{};         ///< the job (a model reviewer's usage is the job's)
  bool operator==(const qa_request&) const = default;
};

/// The QA agent's verdict.
struct qa_verdict {
  std::string component;
  bool pass = false;
  std::vector<violation> violations;
  std::vector<review_finding> findings{}; ///< the reviewer's (blocking ones are also violations)
  std::string reviewer{};                 ///< who reviewed: builtin; empty when the review is off or rules failed
  bool operator==(const qa_verdict&) const = default;
};

/// Ask the integrator to merge a component's commit into `main`.
struct merge_request {
  std::string component;
  std::string commit;
  std::string base; ///< the main commit the branch started from (empty: unknown)
  bool operator==(const merge_request&) const = default;
};

/// The merge commit that landed a component on `main`.
struct merge_result {
  std::string component;
  std::string merge_commit;
  uint32_t batch_size = 0;
  bool operator==(const merge_result&) const = default;
};

/// One file written by a direct commit on `main`.
struct file_entry {
  std::string path;
  std::string content;
  bool operator==(const file_entry&) const = default;
};

/// Ask the integrator to commit files on `main` (the composer's page).
struct commit_files_request {
  std::string message;
  std::vector<file_entry> files;
  bool operator==(const commit_files_request&) const = default;
};

/// The commit made, or `changed == false` when `main` already held the files.
struct commit_files_result {
  std::string commit;
  bool changed = false;
  bool operator==(const commit_files_result&) const = default;
};

/// The page a composition commit holds (output/builder_output.html), read by the integrator.
struct page_request {
  std::string commit;
  bool operator==(const page_request&) const = default;
};

/// Ask the composer to build the page from landed components, in plan order.
struct compose_request {
  std::string job;
  std::string request;
  std::vector<std::string> artifacts;
  bool operator==(const compose_request&) const = default;
};

/// Where the page is and which commit holds it.
struct compose_result {
  std::string path;
  std::string commit;
  bool changed = false;
  bool operator==(const compose_result&) const = default;
};

/// Ask for the use of a component name on this node; answered once granted
/// with a lane: the number of the worktree and branch the job may use
/// (0: `temp_<name>`, `feat/<name>_gen`; n: `temp_<name>-n`, `feat/<name>_gen-n`).
/// Exclusive by default; edits share the name with other edits (each in its
/// own lane, rebased over each other when they land). Two jobs never share a worktree.
struct lease_acquire {
  std::string component;
  std::string job;
  bool shared = false;
  bool operator==(const lease_acquire&) const = default;
};

/// Ask the lesson store for the lessons a new generation of `spec` is given.
struct lessons_request {
  component_spec spec;
  uint32_t limit = 2;
  bool operator==(const lessons_request&) const = default;
};

/// A rejection that a later attempt got past, distilled (kind, code, what, advice).
struct lesson_learned {
  std::string kind;
  std::string code;
  std::string what;
  std::string advice;
  bool operator==(const lesson_learned&) const = default;
};

/// How a generation given lessons `ids` did: passed on its first attempt or not.
struct lesson_outcome {
  std::vector<int64_t> ids;
  bool passed_first = false;
  bool operator==(const lesson_outcome&) const = default;
};

/// Give a component name back.
struct lease_release {
  std::string component;
  std::string job;
  bool operator==(const lease_release&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worktree_open& x) {
  return f(caf::meta::type_name("worktree_open"), x.base_commit);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worktree_commit& x) {
  return f(caf::meta::type_name("worktree_commit"), x.artifact, x.attempt, x.onto, x.job, x.instruction, x.resolved_by);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worktree_rebase& x) {
  return f(caf::meta::type_name("worktree_rebase"), x.job, x.instruction);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rebase_outcome& x) {
  return f(caf::meta::type_name("rebase_outcome"), x.clean, x.onto, x.commit, x.merged, x.kept_both_insertions,
           x.conflicts, x.base, x.ours, x.theirs, x.their_job, x.their_instruction);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worktree_remove& x) {
  return f(caf::meta::type_name("worktree_remove"), x.merged);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, qa_request& x) {
  return f(caf::meta::type_name("qa_request"), x.component, x.artifact, x.description, x.job);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, qa_verdict& x) {
  return f(caf::meta::type_name("qa_verdict"), x.component, x.pass, x.violations, x.findings, x.reviewer);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, merge_request& x) {
  return f(caf::meta::type_name("merge_request"), x.component, x.commit, x.base);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, merge_result& x) {
  return f(caf::meta::type_name("merge_result"), x.component, x.merge_commit, x.batch_size);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, file_entry& x) {
  return f(caf::meta::type_name("file_entry"), x.path, x.content);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, commit_files_request& x) {
  return f(caf::meta::type_name("commit_files_request"), x.message, x.files);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, commit_files_result& x) {
  return f(caf::meta::type_name("commit_files_result"), x.commit, x.changed);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, page_request& x) {
  return f(caf::meta::type_name("page_request"), x.commit);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, compose_request& x) {
  return f(caf::meta::type_name("compose_request"), x.job, x.request, x.artifacts);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, compose_result& x) {
  return f(caf::meta::type_name("compose_result"), x.path, x.commit, x.changed);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_acquire& x) {
  return f(caf::meta::type_name("lease_acquire"), x.component, x.job, x.shared);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lessons_request& x) {
  return f(caf::meta::type_name("lessons_request"), x.spec, x.limit);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lesson_learned& x) {
  return f(caf::meta::type_name("lesson_learned"), x.kind, x.code, x.what, x.advice);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lesson_outcome& x) {
  return f(caf::meta::type_name("lesson_outcome"), x.ids, x.passed_first);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_release& x) {
  return f(caf::meta::type_name("lease_release"), x.component, x.job);
}

} // namespace grove::messages
