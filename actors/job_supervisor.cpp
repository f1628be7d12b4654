#include "actors/job_supervisor.hpp"

#include <map>
#include <optional>
#include <random>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/caf_error.hpp"
#include "actors/composer.hpp"
#include "actors/telemetry.hpp"
#include "actors/worktree.hpp"
#include "messages/codec.hpp"
#include "runtime/supervision/supervision.hpp"

namespace grove::actors {

namespace {

constexpr auto step_timeout = std::chrono::minutes{2};

enum class phase { queued, leasing, generating, committing, checking, merging, closing, done };

} // namespace

/// One component of the job, in plan order.
struct component_slot {
  messages::component_spec spec;
  messages::component_report report;
  phase at = phase::queued;
  std::vector<messages::violation> feedback;
  bool use_cache = true;
  uint64_t gen_seq = 0;  ///< identifies the live attempt; stale answers are ignored
  generator_actor gen;   ///< the live generator, if any
  std::optional<worktree_actor> wt;
  bool wt_opened = false;
  std::string base; ///< the main commit the worktree's branch started from
  bool leased = false;
  std::string artifact;
};

struct job_supervisor_state {
  job_deps deps;
  messages::plan plan;
  std::vector<component_slot> slots;
  std::map<std::string, size_t> by_name;
  size_t next = 0;
  size_t in_flight = 0;
  size_t finished = 0;
  std::optional<supervision::restart_intensity> intensity;
  supervision::backoff_policy backoff;
  supervision::child_spec child;
  std::mt19937_64 rng{std::random_device{}()};
  caf::typed_response_promise<messages::job_report> promise;
  std::chrono::steady_clock::time_point started;
  std::string failure;
  bool cancelled = false;
  bool composing = false;
  bool finishing = false;
  std::string output;
  std::string composition_commit;
  static inline const char* name = "job_supervisor";
};

namespace {

using self_ptr = job_supervisor_actor::stateful_pointer<job_supervisor_state>;

void emit(self_ptr self, const std::string& component, const std::string& stage, uint32_t attempt = 0,
          bool cache_hit = false, std::string detail = {}) {
  messages::telemetry_event ev;
  ev.job = self->state.plan.session_id;
  ev.component = component;
  ev.stage = stage;
  ev.attempt = attempt;
  ev.cache_hit = cache_hit;
  ev.detail = std::move(detail);
  ev.ts_ms = now_ms();
  self->send(self->state.deps.telemetry, std::move(ev));
}

std::string join(const std::vector<messages::violation>& vs) {
  std::string out;
  for (auto& v : vs) out += (out.empty() ? "" : "; ") + v.code + ": " + v.message;
  return out;
}

bool on_main(const component_slot& s) {
  return s.report.status == "landed" || s.report.status == "cached";
}

void pump(self_ptr self);
void spawn_attempt(self_ptr self, size_t idx);
void compose(self_ptr self);
void finish(self_ptr self);
void fail_job(self_ptr self, std::string why);

// Writes to the journal, then runs `next` once the entry is on disk. A
// journal that cannot write (disk full, read-only) stops the job: nothing
// may take effect that the journal does not know.
void journaled(self_ptr self, messages::journal_entry e, std::function<void()> next,
               std::function<void(std::string)> on_fail = {}) {
  auto& st = self->state;
  if (!st.deps.journal) {
    next();
    return;
  }
  self->request(st.deps.journal, step_timeout, std::move(e))
    .then([next](bool) { next(); },
          [self, on_fail](caf::error& err) {
            auto why = self->system().render(err);
            if (on_fail) {
              on_fail(why);
            } else if (self->state.slots.empty()) {
              self->state.failure = why;
              finish(self);
            } else {
              fail_job(self, why);
            }
          });
}

// A journal write whose effect does not wait for it (it only records progress).
void journal_note(self_ptr self, messages::journal_entry e) {
  journaled(self, std::move(e), [] {});
}

messages::journal_entry component_entry(self_ptr self, const component_slot& s, const std::string& state,
                                        const std::string& commit = {}) {
  return {"component", self->state.plan.session_id, state, {}, {s.spec.name}, s.report.attempts, commit};
}

void finish(self_ptr self) {
  auto& st = self->state;
  if (st.finishing) return;
  st.finishing = true;
  messages::job_report r;
  r.job = st.plan.session_id;
  r.request = st.plan.request;
  r.output = st.output;
  r.composition_commit = st.composition_commit;
  r.error = st.failure;
  r.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - st.started).count();
  size_t landed = 0;
  for (auto& s : st.slots) {
    r.components.push_back(s.report);
    if (on_main(s)) ++landed;
  }
  r.status = st.cancelled                        ? "cancelled"
             : !st.failure.empty() || landed == 0 ? "failed"
             : landed == st.slots.size()          ? "done"
                                                  : "partial";
  // The report carries what the job cost in model tokens; ask the router last.
  self->request(st.deps.router, step_timeout, messages::usage_request{r.job})
    .then(
      [self, r](messages::job_usage& u) mutable {
        r.model_usage = std::move(u);
        auto text = messages::report_to_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        auto deliver = [self, r]() mutable {
          emit(self, "", r.status, 0, false, r.error);
          self->state.promise.deliver(std::move(r));
          self->quit();
        };
        if (!self->state.deps.journal) return deliver();
        // The report is delivered whether or not the journal could record it.
        self->request(self->state.deps.journal, step_timeout, messages::journal_entry{"finish", r.job, r.status, text, {}, 0, {}})
          .then([deliver](bool) mutable { deliver(); },
                [deliver, self](caf::error& err) mutable {
                  emit(self, "", "error", 0, false, self->system().render(err));
                  deliver();
                });
      },
      [self, r](caf::error&) mutable {
        emit(self, "", r.status, 0, false, r.error);
        self->state.promise.deliver(std::move(r));
        self->quit();
      });
}

// The slot is finished: free its place and start the next one, or compose.
void settle(self_ptr self, size_t idx, const std::string& status) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  if (s.at == phase::done) return; // settled already: counts must stay exact
  s.at = phase::done;
  s.report.status = status;
  s.wt.reset();
  if (st.deps.leases && s.leased) self->send(st.deps.leases, messages::lease_release{s.spec.name, st.plan.session_id});
  if (st.deps.journal) journal_note(self, component_entry(self, s, status, s.report.commit));
  --st.in_flight;
  ++st.finished;
  emit(self, s.spec.name, status, s.report.attempts, s.report.cache_hit, status == "dropped" ? s.report.error : s.report.commit);
  if (st.finished == st.slots.size()) {
    compose(self);
  } else {
    pump(self);
  }
}

// Removes the worktree (if any), then settles the slot.
void close_slot(self_ptr self, size_t idx, const std::string& status) {
  auto& s = self->state.slots[idx];
  s.at = phase::closing;
  if (!s.wt) {
    settle(self, idx, status);
    return;
  }
  self->request(*s.wt, step_timeout, messages::worktree_remove{status == "landed"})
    .then([self, idx, status](bool) {
            emit(self, self->state.slots[idx].spec.name, "worktree_removed", self->state.slots[idx].report.attempts);
            settle(self, idx, status);
          },
          [self, idx, status](caf::error& err) {
            auto& s = self->state.slots[idx];
            s.report.error += (s.report.error.empty() ? "" : "; ") + std::string{"cleanup: "} + self->system().render(err);
            emit(self, s.spec.name, "error", s.report.attempts, false, s.report.error);
            settle(self, idx, status);
          });
}

void drop(self_ptr self, size_t idx, std::string why) {
  auto& s = self->state.slots[idx];
  // A failed job drops its slots while their requests are still out: the late
  // error of such a request must not close the slot a second time.
  if (s.at == phase::closing || s.at == phase::done) return;
  s.report.error = std::move(why);
  close_slot(self, idx, "dropped");
}

void fail_job(self_ptr self, std::string why) {
  auto& st = self->state;
  if (!st.failure.empty()) return;
  st.failure = std::move(why);
  emit(self, "", "error", 0, false, st.failure);
  for (size_t i = 0; i < st.slots.size(); ++i) {
    auto& s = st.slots[i];
    if (s.at == phase::queued || s.at == phase::leasing) {
      // Never started: a queued slot is not counted in flight yet; settle() expects it.
      if (s.at == phase::queued) ++st.in_flight;
      s.report.error = "not started: " + st.failure;
      settle(self, i, "dropped");
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

void reject(self_ptr self, size_t idx, std::vector<messages::violation> violations) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  s.report.violations = violations;
  if (s.report.attempts >= st.deps.settings.max_attempts) {
    drop(self, idx, "rejected after " + std::to_string(s.report.attempts) + " attempts: " + join(violations));
    return;
  }
  emit(self, s.spec.name, "rejected", s.report.attempts, false, join(violations));
  s.feedback = std::move(violations);
  ++s.report.attempts;
  spawn_attempt(self, idx);
}

void merge(self_ptr self, size_t idx, std::string commit) {
  auto& s = self->state.slots[idx];
  s.at = phase::merging;
  emit(self, s.spec.name, "merging", s.report.attempts);
  // The journal knows which commit is about to land before main can change.
  journaled(self, component_entry(self, s, "merging", commit), [self, idx, commit] {
  if (!self->state.failure.empty()) {
    // The job failed while the journal wrote: this merge never starts.
    drop(self, idx, "job failed: " + self->state.failure);
    return;
  }
  auto& slot = self->state.slots[idx];
  self->request(self->state.deps.integrator, step_timeout, messages::merge_request{slot.spec.name, commit, slot.base})
    .then(
      [self, idx](const messages::merge_result& r) {
        self->state.slots[idx].report.commit = r.merge_commit;
        close_slot(self, idx, "landed");
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
  emit(self, s.spec.name, "qa", s.report.attempts, s.report.cache_hit);
  auto seq = s.gen_seq;
  self->request(self->state.deps.qa, step_timeout, messages::qa_request{s.spec.name, s.artifact})
    .then(
      [self, idx, seq, commit](messages::qa_verdict& v) {
        auto& s = self->state.slots[idx];
        if (s.gen_seq != seq || s.at != phase::checking) return;
        if (v.pass) {
          if (s.report.cache_hit) {
            close_slot(self, idx, "cached");
          } else {
            merge(self, idx, commit);
          }
        } else if (s.report.cache_hit) {
          // The cached copy no longer passes (rules changed): generate afresh, same attempt.
          emit(self, s.spec.name, "cache_rejected", s.report.attempts, true, join(v.violations));
          s.use_cache = false;
          s.report.cache_hit = false;
          spawn_attempt(self, idx);
        } else {
          reject(self, idx, std::move(v.violations));
        }
      },
      [self, idx](caf::error& err) { drop(self, idx, "qa failed: " + self->system().render(err)); });
}

void commit(self_ptr self, size_t idx) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  s.at = phase::committing;
  if (!s.wt) s.wt = spawn_worktree(self, st.deps.repo, s.spec.name);
  auto wt = *s.wt;
  auto seq = s.gen_seq;
  auto do_commit = [self, idx, seq, wt] {
    auto& s = self->state.slots[idx];
    emit(self, s.spec.name, "committing", s.report.attempts);
    self->request(wt, step_timeout, messages::worktree_commit{s.artifact, s.report.attempts})
      .then(
        [self, idx, seq](const std::string& id) {
          auto& s = self->state.slots[idx];
          if (s.gen_seq == seq && s.at == phase::committing) check(self, idx, id);
        },
        [self, idx](caf::error& err) { drop(self, idx, "commit failed: " + self->system().render(err)); });
  };
  self->request(wt, step_timeout, messages::worktree_open{})
    .then([self, idx, do_commit](const std::string& base) {
            auto& s = self->state.slots[idx];
            if (!s.wt_opened) {
              s.wt_opened = true;
              s.base = base;
              emit(self, s.spec.name, "worktree_opened", s.report.attempts, false, "feat/" + s.spec.name + "_gen");
            }
            do_commit();
          },
          [self, idx](caf::error& err) {
            auto& s = self->state.slots[idx];
            s.wt.reset(); // it failed to create anything, and quits on its own or with the job
            drop(self, idx, "worktree failed: " + self->system().render(err));
          });
}

void on_crash(self_ptr self, size_t idx, const std::string& why) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  s.gen = nullptr;
  ++s.gen_seq;
  ++s.report.restarts;
  emit(self, s.spec.name, "crashed", s.report.attempts, false, why);
  if (!supervision::should_restart(st.child.restart, true)) {
    drop(self, idx, "generator crashed: " + why);
    return;
  }
  if (!st.intensity->record(supervision::clock::now())) {
    drop(self, idx, "generator crashed: " + why);
    fail_job(self, "restart limit reached: more than " + std::to_string(st.deps.settings.restart.intensity) +
                     " generator restarts within " + std::to_string(st.deps.settings.restart.period_ms) + " ms");
    return;
  }
  std::uniform_real_distribution<double> draw{0.0, 1.0};
  auto delay = supervision::backoff_delay(st.backoff, s.report.restarts - 1, draw(st.rng));
  emit(self, s.spec.name, "restarting", s.report.attempts, false, "in " + std::to_string(delay.count()) + " ms");
  self->delayed_send(self, delay, messages::generator_restart{s.spec.name});
}

void spawn_attempt(self_ptr self, size_t idx) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  s.at = phase::generating;
  auto seq = ++s.gen_seq;
  auto gen = st.deps.spawn_generator(self);
  self->monitor(gen);
  s.gen = gen;
  emit(self, s.spec.name, "generating", s.report.attempts);
  messages::generate_request req{st.plan.session_id, s.spec, s.report.attempts, s.feedback, s.use_cache};
  self->request(gen, std::chrono::milliseconds{st.deps.settings.generator_timeout_ms}, std::move(req))
    .then(
      [self, idx, seq](messages::generation_result& r) {
        auto& s = self->state.slots[idx];
        if (s.gen_seq != seq || s.at != phase::generating) return;
        s.gen = nullptr;
        s.report.corrections += r.corrections;
        if (!r.ok) {
          reject(self, idx, {{"generation_failed", r.error}});
          return;
        }
        s.artifact = std::move(r.artifact);
        s.report.cache_hit = r.cache_hit;
        if (r.cache_hit) {
          emit(self, s.spec.name, "generated", s.report.attempts, true, "cache hit");
          check(self, idx, {});
        } else {
          emit(self, s.spec.name, "generated", s.report.attempts, false, r.provider);
          commit(self, idx);
        }
      },
      [self, idx, seq](caf::error& err) {
        auto& s = self->state.slots[idx];
        if (s.gen_seq == seq && s.at == phase::generating) on_crash(self, idx, self->system().render(err));
      });
}

// Takes the component's name for this job (another job may hold it), then starts.
void lease(self_ptr self, size_t idx) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  if (!st.deps.leases) {
    spawn_attempt(self, idx);
    return;
  }
  s.at = phase::leasing;
  self->request(st.deps.leases, caf::infinite, messages::lease_acquire{s.spec.name, st.plan.session_id})
    .then(
      [self, idx](bool) {
        auto& st = self->state;
        auto& s = st.slots[idx];
        if (s.at != phase::leasing) {
          // The job stopped meanwhile: give the name straight back.
          self->send(st.deps.leases, messages::lease_release{s.spec.name, st.plan.session_id});
          return;
        }
        s.leased = true;
        journal_note(self, component_entry(self, s, "generating"));
        spawn_attempt(self, idx);
      },
      [self, idx](caf::error& err) { drop(self, idx, "lease failed: " + self->system().render(err)); });
}

void pump(self_ptr self) {
  auto& st = self->state;
  while (st.failure.empty() && st.next < st.slots.size() && st.in_flight < st.deps.settings.parallel) {
    auto idx = st.next++;
    ++st.in_flight;
    st.slots[idx].report.attempts = 1;
    lease(self, idx);
  }
}

void start(self_ptr self, messages::plan p) {
  auto& st = self->state;
  if (auto valid = messages::validate_plan(p); !valid) {
    st.plan = std::move(p);
    st.failure = valid.error().message;
    finish(self);
    return;
  }
  st.plan = std::move(p);
  std::vector<std::string> names;
  for (auto& c : st.plan.components) names.push_back(c.name);
  messages::journal_entry entry{"plan", st.plan.session_id, "running", messages::plan_to_text(st.plan), names, 0, {}};
  // The plan is on disk before any component starts: a resumed job builds the same components.
  journaled(self, std::move(entry), [self] {
    auto& st = self->state;
    emit(self, "", "planned", 0, false, std::to_string(st.plan.components.size()) + " components");
    for (auto& c : st.plan.components) {
      component_slot s;
      s.spec = c;
      s.report.name = c.name;
      st.by_name[c.name] = st.slots.size();
      st.slots.push_back(std::move(s));
    }
    pump(self);
  });
}

void compose(self_ptr self) {
  auto& st = self->state;
  if (st.composing) return;
  st.composing = true;
  messages::compose_request req;
  req.job = st.plan.session_id;
  req.request = st.plan.request;
  for (auto& s : st.slots) {
    if (on_main(s)) req.artifacts.push_back(s.artifact);
  }
  if (req.artifacts.empty()) {
    finish(self);
    return;
  }
  emit(self, "", "composing", 0, false, std::to_string(req.artifacts.size()) + " components");
  journaled(self, {"state", st.plan.session_id, "composing", {}, {}, 0, {}}, [self, req = std::move(req)]() mutable {
  auto c = self->spawn(composer, self->state.deps.integrator);
  self->request(c, step_timeout, std::move(req))
    .then(
      [self](const messages::compose_result& r) {
        self->state.output = (self->state.deps.repo / r.path).string();
        self->state.composition_commit = r.commit;
        finish(self);
      },
      [self](caf::error& err) {
        self->state.failure = "composition failed: " + self->system().render(err);
        finish(self);
      });
  },
  [self](std::string why) {
    self->state.failure = "composition not started: " + why;
    finish(self);
  });
}

job_supervisor_actor::behavior_type job_supervisor(self_ptr self, job_deps deps) {
  auto& st = self->state;
  st.deps = std::move(deps);
  auto& r = st.deps.settings.restart;
  st.intensity.emplace(r.intensity, supervision::millis{r.period_ms});
  st.backoff = {supervision::millis{r.backoff_base_ms}, supervision::millis{r.backoff_max_ms}, r.jitter};
  // Worktree actors are linked so they die with us; one of them failing (it
  // could not open the repository) is reported through its requests and must
  // not take the whole job down with it.
  self->set_exit_handler([](caf::exit_msg&) {});
  self->set_down_handler([self](caf::down_msg& msg) {
    if (msg.reason == caf::exit_reason::normal) return;
    for (size_t i = 0; i < self->state.slots.size(); ++i) {
      auto& s = self->state.slots[i];
      if (s.gen && s.gen.address() == msg.source && s.at == phase::generating) {
        on_crash(self, i, self->system().render(msg.reason));
        return;
      }
    }
  });
  return {
    [self](messages::job_start& req) -> caf::result<messages::job_report> {
      auto& st = self->state;
      st.started = std::chrono::steady_clock::now();
      st.promise = self->make_response_promise<messages::job_report>();
      if (req.has_plan) {
        if (!req.job.empty()) req.ready_plan.session_id = req.job;
        st.plan.session_id = req.ready_plan.session_id;
        st.plan.request = req.ready_plan.request;
        emit(self, "", "started", 0, false, req.ready_plan.request);
        journaled(self, {"begin", st.plan.session_id, {}, st.plan.request, {}, 0, {}},
                  [self, p = std::move(req.ready_plan)]() mutable { start(self, std::move(p)); });
        return st.promise;
      }
      st.plan.session_id = req.job.empty() ? messages::new_session_id() : req.job;
      st.plan.request = req.request;
      emit(self, "", "started", 0, false, req.request);
      journaled(self, {"begin", st.plan.session_id, {}, req.request, {}, 0, {}}, [self, request = req.request] {
        emit(self, "", "planning");
        self->request(self->state.deps.customer, step_timeout, messages::plan_request{self->state.plan.session_id, request})
          .then([self](messages::plan& p) { start(self, std::move(p)); },
                [self](caf::error& err) {
                  self->state.failure = "planning failed: " + self->system().render(err);
                  finish(self);
                });
      });
      return st.promise;
    },
    [self](const messages::job_cancel& msg) {
      auto& st = self->state;
      if (st.cancelled || st.finishing) return;
      st.cancelled = true;
      if (st.slots.empty()) {
        // Still planning: nothing touched the repository yet.
        st.failure = "cancelled: " + msg.reason;
        finish(self);
        return;
      }
      fail_job(self, "cancelled: " + msg.reason);
    },
    [self](const messages::generator_restart& msg) {
      auto& st = self->state;
      auto i = st.by_name.find(msg.component);
      if (i == st.by_name.end() || !st.failure.empty()) return;
      if (st.slots[i->second].at == phase::generating) spawn_attempt(self, i->second);
    },
  };
}

} // namespace

job_supervisor_actor spawn_job_supervisor(caf::actor_system& sys, job_deps deps) {
  return sys.spawn(job_supervisor, std::move(deps));
}

} // namespace grove::actors
