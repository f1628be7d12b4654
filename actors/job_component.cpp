// One component's path through a job: generate, commit in its worktree, QA,
// merge; QA rejections become retries with feedback, crashes become restarts
// with backoff, and whatever ends a component settles it exactly once.

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
#include "actors/service_call.hpp"

namespace grove::actors::job_flow {

void settle(self_ptr self, size_t idx, messages::stage outcome) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  if (s.at == phase::done) return; // settled already: counts must stay exact
  s.at = phase::done;
  s.outcome = outcome;
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
  self->request(*s.wt, step_timeout, messages::worktree_remove{outcome == messages::stage::landed})
    .then(
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
    } else if (s.at == phase::generating || s.at == phase::committing || s.at == phase::checking) {
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

namespace {

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

} // namespace

void timed_out(self_ptr self, size_t idx, std::string why) {
  auto& s = self->state.slots[idx];
  emit(self, s.spec.name, messages::stage::timed_out, s.report.attempts, false, why);
  reject(self, idx, {{"generation_timeout", std::move(why)}});
}

void reject(self_ptr self, size_t idx, std::vector<messages::violation> violations) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  s.report.violations = violations;
  if (time_left(self, idx).count() <= 0) {
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
      ask_service(
        self, self->state.deps.integrator, step_timeout, messages::merge_request{slot.spec.name, commit, slot.base},
        [self, idx](const messages::merge_result& r) {
          self->state.slots[idx].report.commit = r.merge_commit;
          close_slot(self, idx, messages::stage::landed);
        },
        [self, idx](caf::error& err) { drop(self, idx, "merge failed: " + self->system().render(err)); });
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
  ask_service(
    self, self->state.deps.qa, step_timeout, messages::qa_request{s.spec.name, s.artifact},
    [self, idx, seq, commit](messages::qa_verdict& v) {
      auto& s = self->state.slots[idx];
      if (s.gen_seq != seq || s.at != phase::checking) return;
      if (v.pass) {
        if (s.report.cache_hit) {
          close_slot(self, idx, messages::stage::cached);
        } else {
          merge(self, idx, commit);
        }
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
  s.wt = spawn_worktree(self, st.deps.repo, s.spec.name);
  self->request(*s.wt, step_timeout, messages::worktree_open{})
    .then(
      [self, idx](const std::string& base) {
        auto& s = self->state.slots[idx];
        if (s.wt_opened) return;
        s.wt_opened = true;
        s.base = base;
        emit(self, s.spec.name, messages::stage::worktree_opened, s.report.attempts, false,
             "feat/" + s.spec.name + "_gen");
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
    self->request(wt, step_timeout, messages::worktree_commit{s.artifact, s.report.attempts})
      .then(
        [self, idx, seq](const std::string& id) {
          auto& s = self->state.slots[idx];
          if (s.gen_seq == seq && s.at == phase::committing) check(self, idx, id);
        },
        [self, idx](caf::error& err) { drop(self, idx, "commit failed: " + self->system().render(err)); });
  };
  self->request(wt, step_timeout, messages::worktree_open{})
    .then(
      [self, idx, do_commit](const std::string& base) {
        auto& s = self->state.slots[idx];
        if (!s.wt_opened) {
          s.wt_opened = true;
          s.base = base;
          emit(self, s.spec.name, messages::stage::worktree_opened, s.report.attempts, false,
               "feat/" + s.spec.name + "_gen");
        }
        do_commit();
      },
      [self, idx](caf::error& err) {
        auto& s = self->state.slots[idx];
        s.wt.reset(); // it failed to create anything, and quits on its own or with the job
        drop(self, idx, "worktree failed: " + self->system().render(err));
      });
}

void on_crash(self_ptr self, size_t idx, const std::string& why, bool node_lost) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  s.gen = nullptr;
  ++s.gen_seq;
  ++s.report.restarts;
  emit(self, s.spec.name, messages::stage::crashed, s.report.attempts, false,
       node_lost ? "node " + s.node + " lost: " + why : why);
  using logic::supervision::decision;
  auto now = logic::supervision::clock::now();
  auto draw = std::uniform_real_distribution<double>{0.0, 1.0}(st.rng);
  decision d;
  // The generators of one lost node count as one failure toward the intensity.
  auto counted = node_lost ? st.node_failures.find(s.node) : st.node_failures.end();
  if (counted != st.node_failures.end() && now - counted->second < std::chrono::seconds{2}) {
    d = st.restarts->on_exit_of_counted_failure(true, s.report.restarts - 1, draw);
  } else {
    d = st.restarts->on_exit(true, s.report.restarts - 1, now, draw);
    if (node_lost) st.node_failures[s.node] = now;
  }
  switch (d.kind) {
    case decision::leave: drop(self, idx, "generator crashed: " + why); return;
    case decision::give_up:
      drop(self, idx, "generator crashed: " + why);
      fail_job(self, "restart limit reached: more than " + std::to_string(st.deps.settings.restart.intensity) +
                       " generator restarts within " + std::to_string(st.deps.settings.restart.period_ms) + " ms");
      return;
    case decision::restart:
      emit(self, s.spec.name, messages::stage::restarting, s.report.attempts, false,
           "in " + std::to_string(d.delay.count()) + " ms");
      self->delayed_send(self, d.delay, messages::generator_restart{s.spec.name});
      return;
  }
}

namespace {

// Runs one attempt on a generator (local, or placed on a node); `seq` identifies the attempt.
void run_attempt(self_ptr self, size_t idx, uint64_t seq, generator_actor gen, std::string node) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  auto left = time_left(self, idx);
  if (left.count() <= 0) {
    self->send_exit(gen, caf::exit_reason::user_shutdown);
    drop(self, idx, deadline_passed(self, idx) + " before attempt " + std::to_string(s.report.attempts));
    return;
  }
  // An attempt has the generator timeout, or what is left of the deadlines if less.
  auto budget = std::min(std::chrono::milliseconds{st.deps.settings.generator_timeout_ms}, left);
  self->monitor(gen);
  s.gen = gen;
  s.node = std::move(node);
  s.report.nodes.push_back(s.node);
  emit(self, s.spec.name, messages::stage::generating, s.report.attempts);
  // A placed generator runs on a node without the library: only a local one reads the cache.
  bool local = !st.deps.placement || s.node == st.deps.node_name;
  messages::generate_request req{
    st.plan.session_id,       s.spec, s.report.attempts, s.feedback, s.use_cache && (local || !st.deps.placement),
    now_ms() + budget.count()};
  // The generator answers a timed-out model call itself; the grace covers a generator that hangs.
  self->request(gen, budget + generator_grace, std::move(req))
    .then(
      [self, idx, seq](messages::generation_result& r) {
        auto& s = self->state.slots[idx];
        if (s.gen_seq != seq || s.at != phase::generating) return;
        s.gen = nullptr;
        s.report.corrections += r.corrections;
        if (r.timed_out) {
          timed_out(self, idx, r.error);
          return;
        }
        if (!r.ok) {
          reject(self, idx, {{"generation_failed", r.error}});
          return;
        }
        if (!r.cache_hit) {
          // Checked before the commit, not only by QA after it: a key must not reach even a branch's objects.
          if (auto leak = logic::qa::check_secrets(r.artifact, messages::registered_secrets()); !leak.empty()) {
            reject(self, idx, std::move(leak));
            return;
          }
        }
        s.artifact = std::move(r.artifact);
        s.report.cache_hit = r.cache_hit;
        if (r.cache_hit) {
          emit(self, s.spec.name, messages::stage::generated, s.report.attempts, true, "cache hit");
          check(self, idx, {});
        } else {
          emit(self, s.spec.name, messages::stage::generated, s.report.attempts, false, r.provider);
          commit(self, idx);
        }
      },
      [self, idx, seq, budget](caf::error& err) {
        auto& s = self->state.slots[idx];
        if (s.gen_seq != seq || s.at != phase::generating) return;
        if (err == caf::sec::request_timeout) {
          // Hung, not crashed: the attempt is spent and the generator stopped.
          if (s.gen) self->send_exit(s.gen, caf::exit_reason::kill);
          s.gen = nullptr;
          ++s.gen_seq;
          timed_out(self, idx, "the generator did not answer within " + std::to_string(budget.count()) + " ms");
          return;
        }
        // The request to a generator on a node that went away fails before
        // (or instead of) the monitor's down message.
        bool lost = err == caf::sec::request_receiver_down && !self->state.deps.node_name.empty() &&
                    s.node != self->state.deps.node_name;
        on_crash(self, idx, self->system().render(err), lost);
      });
}

} // namespace

void spawn_attempt(self_ptr self, size_t idx) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  auto& cfg = st.deps.settings;
  if (s.deadline == std::chrono::steady_clock::time_point{}) {
    s.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds{cfg.component_timeout_ms};
  }
  auto left = time_left(self, idx);
  if (left.count() <= 0) {
    s.at = phase::generating; // drop() closes from here
    drop(self, idx, deadline_passed(self, idx) + " before attempt " + std::to_string(s.report.attempts));
    return;
  }
  s.at = phase::generating;
  auto seq = ++s.gen_seq;
  std::error_code ec;
  bool cached = s.use_cache && std::filesystem::exists(st.deps.repo / git::component_path(s.spec.name), ec);
  if (!s.wt && !cached) open_worktree(self, idx);
  if (!st.deps.placement || cached) {
    run_attempt(self, idx, seq, st.deps.spawn_generator(self), st.deps.node_name);
    return;
  }
  // Model-bound: a node with free capacity gets it; a retry prefers another
  // node, and the provider its route escalates to.
  messages::placement_request pr;
  pr.job = st.plan.session_id;
  pr.component = s.spec.name;
  pr.attempt = s.report.attempts;
  if (s.report.attempts > 1 || s.report.restarts > 0) pr.avoid_node = s.node;
  if (s.report.attempts > 1) {
    if (auto i = cfg.models.retry_prefer.find("generate"); i != cfg.models.retry_prefer.end()) {
      pr.prefer_provider = i->second;
    }
  }
  pr.deadline_ms = now_ms() + left.count();
  self->request(st.deps.placement, left, std::move(pr))
    .then(
      [self, idx, seq](caf::actor& gen, std::string& node) {
        auto& s = self->state.slots[idx];
        auto typed = caf::actor_cast<generator_actor>(gen);
        if (s.gen_seq != seq || s.at != phase::generating) {
          self->send_exit(typed, caf::exit_reason::user_shutdown); // the attempt was abandoned meanwhile
          return;
        }
        run_attempt(self, idx, seq, typed, std::move(node));
      },
      [self, idx, seq](caf::error& err) {
        auto& s = self->state.slots[idx];
        if (s.gen_seq != seq || s.at != phase::generating) return;
        if (err == caf::sec::request_timeout) {
          drop(self, idx, deadline_passed(self, idx) + " while waiting for a node with free capacity");
          return;
        }
        drop(self, idx, "no node could take the generation: " + self->system().render(err));
      });
}

// Takes the component's name for this job (another job may hold it), then starts.

} // namespace grove::actors::job_flow
