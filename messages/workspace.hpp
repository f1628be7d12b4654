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
  bool operator==(const worktree_commit&) const = default;
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
  bool operator==(const qa_request&) const = default;
};

/// The QA agent's verdict.
struct qa_verdict {
  std::string component;
  bool pass = false;
  std::vector<violation> violations;
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

/// Ask for the exclusive use of a component name on this node; answered
/// (true) once no other job holds it. Two jobs never share a worktree.
struct lease_acquire {
  std::string component;
  std::string job;
  bool operator==(const lease_acquire&) const = default;
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
  return f(caf::meta::type_name("worktree_commit"), x.artifact, x.attempt);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worktree_remove& x) {
  return f(caf::meta::type_name("worktree_remove"), x.merged);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, qa_request& x) {
  return f(caf::meta::type_name("qa_request"), x.component, x.artifact);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, qa_verdict& x) {
  return f(caf::meta::type_name("qa_verdict"), x.component, x.pass, x.violations);
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
  return f(caf::meta::type_name("lease_acquire"), x.component, x.job);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_release& x) {
  return f(caf::meta::type_name("lease_release"), x.component, x.job);
}

} // namespace grove::messages
