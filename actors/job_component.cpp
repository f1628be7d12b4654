// One component's path through a job after its generator answered: commit in
// its worktree, QA, merge; QA rejections become retries with feedback, and
// whatever ends a component settles it exactly once. Attempts themselves
// (placement, the generator, crashes and restarts): job_attempt.cpp.

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/caf_error.hpp"
#include "actors/composer.hpp"
#include "actors/job_flow.hpp"
#include "logic/qa_rules.hpp"
#include "actors/telemetry.hpp"
#include "actors/worktree.hpp"
#include "messages/codec.hpp"
#include "messages/secrets.hpp"
#include "infra/git/git.hpp"

namespace grove::actors::job_flow {

void settle(self_ptr self, size_t idx, messages::stage outcome) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  if (s.at == phase::done) return; // settled already: counts must stay exact
  s.at = phase::done;
  s.outcome = outcome;
  learn_from(self, idx, outcome);
  s.report.status = messages::to_string(outcome);
  s.wt.reset();
  if (st.deps.leases && s.leased) self->send(st.deps.leases, messages::lease_release{s.spec.name, st.plan.session_id});
  if (st.deps.journal) journal_note(self, component_entry(self, s, s.report.status, s.report.commit));
  --st.in_flight;
  ++st.finished;
  emit(self, s.spec.name, outcome, s.report.attempts, s.report.cache_hit,
       outcome == messages::stage::dropped ? s.report.error : s.report.commit);
  if (st.finished == st.slots.size()) {
    compose(self);
  } else {
    pump(self);
  }
}

// Removes the worktree (if any), then settles the slot.
void close_slot(self_ptr self, size_t idx, messages::stage outcome) {
  auto& s = self->state.slots[idx];
  s.at = phase::closing;
  if (!s.wt) {
    settle(self, idx, outcome);
    return;
  }
  watched_request(
    self, step_timeout, *s.wt, messages::worktree_remove{outcome == messages::stage::landed},
    [self, idx, outcome](bool) {
      emit(self, self->state.slots[idx].spec.name, messages::stage::worktree_removed,
           self->state.slots[idx].report.attempts);
      settle(self, idx, outcome);
    },
    [self, idx, outcome](caf::error& err) {
      auto& s = self->state.slots[idx];
      s.report.error += (s.report.error.empty() ? "" : "; ") + std::string{"cleanup: "} + self->system().render(err);
      emit(self, s.spec.name, messages::stage::error, s.report.attempts, false, s.report.error);
      settle(self, idx, outcome);
    });
}

void drop(self_ptr self, size_t idx, std::string why) {
  auto& s = self->state.slots[idx];
  // A failed job drops its slots while their requests are still out: the late
  // error of such a request must not close the slot a second time.
  if (s.at == phase::closing || s.at == phase::done) return;
  s.report.error = std::move(why);
  close_slot(self, idx, messages::stage::dropped);
}

void fail_job(self_ptr self, std::string why) {
  auto& st = self->state;
  if (!st.failure.empty()) return;
  st.failure = std::move(why);
  emit(self, "", messages::stage::error, 0, false, st.failure);
  for (size_t i = 0; i < st.slots.size(); ++i) {
    auto& s = st.slots[i];
    if (s.at == phase::queued || s.at == phase::leasing) {
      // Never started: a queued slot is not counted in flight yet; settle() expects it.
      if (s.at == phase::queued) ++st.in_flight;
      s.report.error = "not started: " + st.failure;
      settle(self, i, messages::stage::dropped);
    } else if (s.at == phase::generating || s.at == phase::committing || s.at == phase::checking ||
               s.at == phase::rebasing || s.at == phase::resolving) {
      // A merge already requested finishes on its own; everything before it stops here.
      // Abandon the attempt: its generator would otherwise wait for a model until its timeout.
      if (s.gen) self->send_exit(s.gen, caf::exit_reason::user_shutdown);
      s.gen = nullptr;
      ++s.gen_seq;
      drop(self, i, "job failed: " + st.failure);
    }
    if (st.composing) return;
  }
  st.next = st.slots.size();
}

// What is left before the component's or the job's deadline, whichever comes first.
std::chrono::milliseconds time_left(self_ptr self, size_t idx) {
  auto& st = self->state;
  auto end = std::min(st.slots[idx].deadline, st.deadline);
  return std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
}

// Which deadline ended the component, named with its figure.
std::string deadline_passed(self_ptr self, size_t idx) {
  auto& st = self->state;
  auto& cfg = st.deps.settings;
  bool job = st.deadline <= st.slots[idx].deadline;
  return job
           ? "the job's deadline (job_timeout_ms " + std::to_string(cfg.job_timeout_ms) + ") passed"
           : "the component's deadline (component_timeout_ms " + std::to_string(cfg.component_timeout_ms) + ") passed";
}

void timed_out(self_ptr self, size_t idx, std::string why) {
  auto& s = self->state.slots[idx];
  emit(self, s.spec.name, messages::stage::timed_out, s.report.attempts, false, why);
  // The generator's clock may fire a few ms before ours: an attempt that had only
  // what was left of a deadline and timed out ended with that deadline.
  reject(self, idx, {{"generation_timeout", std::move(why)}}, s.attempt_to_deadline);
}

void reject(self_ptr self, size_t idx, std::vector<messages::violation> violations, bool at_deadline) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  s.report.violations = violations;
  s.rejections.insert(s.rejections.end(), violations.begin(), violations.end());
  if (at_deadline || time_left(self, idx).count() <= 0) {
    drop(
      self, idx,
      deadline_passed(self, idx) + " after " + std::to_string(s.report.attempts) + " attempt(s): " + join(violations));
    return;
  }
  if (s.report.attempts >= st.deps.settings.max_attempts) {
    drop(self, idx, "rejected after " + std::to_string(s.report.attempts) + " attempts: " + join(violations));
    return;
  }
  emit(self, s.spec.name, messages::stage::rejected, s.report.attempts, false, join(violations));
  s.feedback = std::move(violations);
  ++s.report.attempts;
  spawn_attempt(self, idx);
}

void merge(self_ptr self, size_t idx, std::string commit) {
  auto& s = self->state.slots[idx];
  s.at = phase::merging;
  emit(self, s.spec.name, messages::stage::merging, s.report.attempts);
  // The journal knows which commit is about to land before main can change.
  journaled(
    self, component_entry(self, s, "merging", commit),
    [self, idx, commit] {
      if (!self->state.failure.empty()) {
        // The job failed while the journal wrote: this merge never starts.
        drop(self, idx, "job failed: " + self->state.failure);
        return;
      }
      auto& slot = self->state.slots[idx];
      watched_service(
        self, step_timeout, self->state.deps.integrator, messages::merge_request{slot.spec.name, commit, slot.base},
        [self, idx](const messages::merge_result& r) {
          self->state.slots[idx].report.commit = r.merge_commit;
          remember_landed_resolution(self, idx);
          close_slot(self, idx, messages::stage::landed);
        },
        [self, idx](caf::error& err) {
          // Another job's change of the component landed since the branch started: rebase over it.
          if (auto f = from_caf(err); f && f->code == messages::errc::stale_base) {
            if (self->state.failure.empty()) {
              rebase(self, idx);
              return;
            }
          }
          drop(self, idx, "merge failed: " + self->system().render(err));
        });
    },
    [self, idx](std::string why) {
      // Not journaled, so not merged: main never changes behind the journal's back.
      drop(self, idx, why);
      fail_job(self, why);
    });
}

void check(self_ptr self, size_t idx, std::string commit) {
  auto& s = self->state.slots[idx];
  s.at = phase::checking;
  emit(self, s.spec.name, messages::stage::qa, s.report.attempts, s.report.cache_hit);
  auto seq = s.gen_seq;
  watched_service(
    self, step_timeout, self->state.deps.qa,
    messages::qa_request{s.spec.name, s.artifact, s.spec.description, self->state.plan.session_id},
    [self, idx, seq, commit](messages::qa_verdict& v) {
      auto& s = self->state.slots[idx];
      if (s.gen_seq != seq || s.at != phase::checking) return;
      if (!v.reviewer.empty()) {
        s.report.findings = v.findings;
        std::string codes;
        for (auto& f : v.findings) codes += (codes.empty() ? "" : ",") + f.code + ":" + f.severity;
        messages::telemetry_event ev;
        ev.job = self->state.plan.session_id;
        ev.component = s.spec.name;
        ev.stage = messages::stage::reviewed;
        ev.attempt = s.report.attempts;
        ev.cache_hit = s.report.cache_hit;
        ev.provider = v.reviewer;
        ev.detail = codes;
        ev.node = self->state.deps.node_name;
        self->send(self->state.deps.telemetry, std::move(ev));
      }
      if (v.pass) {
        if (s.report.cache_hit) {
          close_slot(self, idx, messages::stage::cached);
        } else {
          merge(self, idx, commit);
        }
      } else if (s.from_resolver) {
        // A resolver's answer gets no second try: the edit is dropped, main stays as it was.
        drop(self, idx,
             "the resolution of " + s.report.conflict + " by " + s.report.resolved_by +
               " failed the QA gate: " + join(v.violations));
      } else if (s.report.cache_hit) {
        // The cached copy no longer passes (rules changed): generate afresh, same attempt.
        emit(self, s.spec.name, messages::stage::cache_rejected, s.report.attempts, true, join(v.violations));
        s.use_cache = false;
        s.report.cache_hit = false;
        spawn_attempt(self, idx);
      } else {
        reject(self, idx, std::move(v.violations));
      }
    },
    [self, idx](caf::error& err) { drop(self, idx, "qa failed: " + self->system().render(err)); });
}

// Creates the component's worktree, once: from commit() or, when the cache
// certainly misses, already while the model works (its git work then hides
// behind the model's latency). Messages between two actors keep their order,
// so a later worktree_commit always finds the worktree opened.
void open_worktree(self_ptr self, size_t idx) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  if (s.wt) return;
  s.wt = spawn_worktree(self, st.deps.repo, s.spec.name, s.lane);
  watched_request(
    self, step_timeout, *s.wt, messages::worktree_open{},
    [self, idx](const std::string& base) {
      auto& s = self->state.slots[idx];
      if (s.wt_opened) return;
      s.wt_opened = true;
      s.base = base;
      emit(self, s.spec.name, messages::stage::worktree_opened, s.report.attempts, false,
           git::branch_for(s.spec.name, s.lane));
    },
    [](caf::error&) {}); // commit() asks again and reports the failure
}

void commit(self_ptr self, size_t idx) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  s.at = phase::committing;
  open_worktree(self, idx);
  auto wt = *s.wt;
  auto seq = s.gen_seq;
  auto do_commit = [self, idx, seq, wt] {
    auto& s = self->state.slots[idx];
    emit(self, s.spec.name, messages::stage::committing, s.report.attempts);
    messages::worktree_commit req{s.artifact,
                                  s.report.attempts,
                                  {},
                                  self->state.plan.session_id,
                                  s.spec.action == "edit" ? s.spec.instruction : std::string{}};
    watched_request(
      self, step_timeout, wt, std::move(req),
      [self, idx, seq](const std::string& id) {
        auto& s = self->state.slots[idx];
        if (s.gen_seq == seq && s.at == phase::committing) check(self, idx, id);
      },
      [self, idx](caf::error& err) { drop(self, idx, "commit failed: " + self->system().render(err)); });
  };
  watched_request(
    self, step_timeout, wt, messages::worktree_open{},
    [self, idx, do_commit](const std::string& base) {
      auto& s = self->state.slots[idx];
      if (!s.wt_opened) {
        s.wt_opened = true;
        s.base = base;
        emit(self, s.spec.name, messages::stage::worktree_opened, s.report.attempts, false,
             git::branch_for(s.spec.name, s.lane));
      }
      do_commit();
    },
    [self, idx](caf::error& err) {
      auto& s = self->state.slots[idx];
      s.wt.reset(); // it failed to create anything, and quits on its own or with the job
      drop(self, idx, "worktree failed: " + self->system().render(err));
    });
}

} // namespace grove::actors::job_flow
