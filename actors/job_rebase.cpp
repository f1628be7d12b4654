// A component whose branch main changed under it (another job's edit of the
// same component landed first): its worktree actor rebases the branch (a
// structural three-way merge of the component, committed on top of main);
// a conflict goes to the memory of resolutions, then to the router's
// resolver; whatever comes out is QA-checked and merged like any attempt.
// An unresolved conflict drops the component, naming the other job.

#include <caf/all.hpp>

#include "actors/caf_error.hpp"
#include "actors/job_flow.hpp"
#include "actors/telemetry.hpp"
#include "infra/git/git.hpp"
#include "infra/git/resolutions.hpp"
#include "logic/library.hpp"
#include "logic/prompts.hpp"
#include "logic/qa_rules.hpp"
#include "messages/names.hpp"
#include "messages/secrets.hpp"

namespace grove::actors::job_flow {

namespace {

std::string comma_list(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs) out += (out.empty() ? "" : ", ") + x;
  return out;
}

// "a conflict in html with job J's edit ("instruction")": what the report and the error say.
std::string describe(const messages::rebase_outcome& r) {
  auto out = "a conflict in " + comma_list(r.conflicts) + " with ";
  out += r.their_job.empty() ? std::string{"a change on main"} : "job " + r.their_job + "'s change";
  if (!r.their_instruction.empty()) out += " (\"" + r.their_instruction + "\")";
  return out;
}

// Sends the event with the resolver in its provider field.
void emit_resolver(self_ptr self, const component_slot& s, messages::stage stage, const std::string& resolver,
                   std::string detail) {
  messages::telemetry_event ev;
  ev.job = self->state.plan.session_id;
  ev.component = s.spec.name;
  ev.stage = stage;
  ev.attempt = s.report.attempts;
  ev.provider = resolver;
  ev.detail = messages::redact(detail);
  ev.node = self->state.deps.node_name;
  self->send(self->state.deps.telemetry, std::move(ev));
}

// Commits a resolution of `r`'s conflict on top of main, then QA and merge.
void commit_resolution(self_ptr self, size_t idx, const messages::rebase_outcome& r, std::string text,
                       std::string resolver) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  // Checked before the commit, not only by QA after it: a key must not reach even a branch's objects.
  if (auto leak = logic::qa::check_secrets(text, messages::registered_secrets()); !leak.empty()) {
    drop(self, idx, "the resolver's answer (" + resolver + ") for " + describe(r) + " was rejected: " + join(leak));
    return;
  }
  s.artifact = logic::library::with_version(text, logic::library::version_of(r.theirs) + 1);
  s.report.version = static_cast<uint32_t>(std::max(0, logic::library::version_of(s.artifact)));
  s.report.resolved_by = resolver;
  s.resolution_from_model = resolver != "memory";
  s.from_resolver = true;
  s.at = phase::committing;
  auto seq = s.gen_seq;
  messages::worktree_commit req{s.artifact,         s.report.attempts,  r.onto,
                                st.plan.session_id, s.spec.instruction, resolver};
  watched_request(
    self, step_timeout, *s.wt, std::move(req),
    [self, idx, seq, onto = r.onto, resolver](const std::string& commit) {
      auto& s = self->state.slots[idx];
      if (s.gen_seq != seq || s.at != phase::committing) return;
      s.base = onto;
      emit_resolver(self, s, messages::stage::resolved, resolver, "resolved by " + resolver);
      check(self, idx, commit);
    },
    [self, idx](caf::error& err) {
      drop(self, idx, "commit of the resolution failed: " + self->system().render(err));
    });
}

// Asks the router's resolver (role resolve) for `r`'s conflict.
void ask_resolver(self_ptr self, size_t idx, messages::rebase_outcome r) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  auto left = time_left(self, idx);
  if (left.count() <= 0) {
    drop(self, idx, deadline_passed(self, idx) + " before " + describe(r) + " was resolved");
    return;
  }
  auto budget = std::min(std::chrono::milliseconds{st.deps.settings.generator_timeout_ms}, left);
  logic::prompts::conflict_sides sides{
    s.spec.name, comma_list(r.conflicts), r.base, r.ours, r.theirs, st.plan.session_id, s.spec.instruction,
    r.their_job, r.their_instruction};
  messages::model_request call;
  call.role = "resolve";
  call.job = st.plan.session_id;
  call.spec = s.spec;
  call.attempt = s.report.attempts;
  call.current = r.theirs;
  call.deadline_ms = now_ms() + budget.count();
  call.prompt = logic::prompts::resolve_prompt(sides);
  s.at = phase::resolving;
  auto seq = s.gen_seq;
  watched_service(
    self, budget, st.deps.router, std::move(call),
    [self, idx, seq, r](const messages::model_reply& reply) {
      auto& s = self->state.slots[idx];
      if (s.gen_seq != seq || s.at != phase::resolving) return;
      commit_resolution(self, idx, r, reply.text, reply.provider);
    },
    [self, idx, seq, r, budget](caf::error& err) {
      auto& s = self->state.slots[idx];
      if (s.gen_seq != seq || s.at != phase::resolving) return;
      auto why = err == caf::sec::request_timeout
                   ? "the resolver did not answer within " + std::to_string(budget.count()) + " ms"
                   : self->system().render(err);
      drop(self, idx, "dropped this edit: " + describe(r) + " was not resolved: " + why);
    });
}

void on_conflict(self_ptr self, size_t idx, messages::rebase_outcome r) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  s.report.conflict = describe(r);
  emit(self, s.spec.name, messages::stage::conflict, s.report.attempts, false, s.report.conflict);
  s.resolution_key = git::conflict_key(r.base, r.ours, r.theirs);
  if (!s.resolution_key.empty()) {
    if (auto known = git::recall_resolution(st.deps.repo, s.resolution_key)) {
      commit_resolution(self, idx, r, std::move(*known), "memory");
      return;
    }
  }
  ask_resolver(self, idx, std::move(r));
}

} // namespace

void rebase(self_ptr self, size_t idx) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  if (!s.wt) {
    drop(self, idx, "main changed " + s.spec.name + " since its branch started, and it has no worktree to rebase");
    return;
  }
  if (s.report.rebases >= max_rebases) {
    drop(self, idx,
         "main kept changing " + s.spec.name + ": gave up after " + std::to_string(max_rebases) + " rebases");
    return;
  }
  if (time_left(self, idx).count() <= 0) {
    drop(self, idx, deadline_passed(self, idx) + " before its rebase");
    return;
  }
  ++s.report.rebases;
  s.at = phase::rebasing;
  s.resolution_key.clear();
  s.resolution_from_model = false;
  s.from_resolver = false;
  emit(self, s.spec.name, messages::stage::rebasing, s.report.attempts, false,
       "main changed " + s.spec.name + " since " + s.base.substr(0, 12));
  auto seq = s.gen_seq;
  watched_request(
    self, step_timeout, *s.wt, messages::worktree_rebase{st.plan.session_id, s.spec.instruction},
    [self, idx, seq](messages::rebase_outcome& r) {
      auto& s = self->state.slots[idx];
      if (s.gen_seq != seq || s.at != phase::rebasing) return;
      if (!r.clean) {
        on_conflict(self, idx, std::move(r));
        return;
      }
      s.base = r.onto;
      s.artifact = std::move(r.merged);
      s.report.version = static_cast<uint32_t>(std::max(0, logic::library::version_of(s.artifact)));
      if (r.kept_both_insertions) {
        // Both sides added lines at one place: the builtin resolver kept both.
        s.report.conflict = "both sides inserted lines at the same place (with " +
                            (r.their_job.empty() ? std::string{"a change on main"} : "job " + r.their_job) + ")";
        s.report.resolved_by = "builtin";
        emit(self, s.spec.name, messages::stage::conflict, s.report.attempts, false, s.report.conflict);
        emit_resolver(self, s, messages::stage::resolved, "builtin", "kept both insertions");
      }
      check(self, idx, r.commit);
    },
    [self, idx](caf::error& err) { drop(self, idx, "rebase failed: " + self->system().render(err)); });
}

void remember_landed_resolution(self_ptr self, size_t idx) {
  auto& s = self->state.slots[idx];
  if (!s.resolution_from_model || s.resolution_key.empty()) return;
  if (auto saved = git::remember_resolution(self->state.deps.repo, s.resolution_key, s.artifact); !saved) {
    emit(self, s.spec.name, messages::stage::error, s.report.attempts, false,
         "the resolution landed but could not be remembered: " + saved.error().message);
  }
}

} // namespace grove::actors::job_flow
