#include "actors/job_supervisor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/caf_error.hpp"
#include "actors/composer.hpp"
#include "actors/job_flow.hpp"
#include "logic/routing.hpp"
#include "actors/telemetry.hpp"
#include "actors/worktree.hpp"
#include "messages/codec.hpp"

namespace grove::actors {

namespace job_flow {

void emit(self_ptr self, const std::string& component, messages::stage stage, uint32_t attempt, bool cache_hit,
          std::string detail) {
  messages::telemetry_event ev;
  ev.job = self->state.plan.session_id;
  ev.component = component;
  ev.stage = stage;
  ev.attempt = attempt;
  ev.cache_hit = cache_hit;
  ev.detail = std::move(detail);
  ev.ts_ms = now_ms();
  if (!component.empty()) {
    if (auto i = self->state.by_name.find(component); i != self->state.by_name.end()) {
      ev.node = self->state.slots[i->second].node;
    }
  }
  self->send(self->state.deps.telemetry, std::move(ev));
}

std::string join(const std::vector<messages::violation>& vs) {
  std::string out;
  for (auto& v : vs) out += (out.empty() ? "" : "; ") + v.code + ": " + v.message;
  return out;
}

bool on_main(const component_slot& s) {
  return s.outcome == messages::stage::landed || s.outcome == messages::stage::cached;
}

// Writes to the journal, then runs `next` once the entry is on disk. A
// journal that cannot write (disk full, read-only) stops the job: nothing
// may take effect that the journal does not know.
void journaled(self_ptr self, messages::journal_entry e, std::function<void()> next,
               std::function<void(std::string)> on_fail) {
  auto& st = self->state;
  if (!st.deps.journal) {
    next();
    return;
  }
  watched_service(
    self, step_timeout, st.deps.journal, std::move(e), [next](bool) { next(); },
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
                                        const std::string& commit) {
  return {messages::journal_record::component,
          self->state.plan.session_id,
          state,
          {},
          {s.spec.name},
          s.report.attempts,
          commit};
}

namespace {

// Journals the final report (delivered whether or not the journal could record it), then delivers it.
void record(self_ptr self, messages::job_report r) {
  auto text = messages::report_to_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto deliver = [self, r]() mutable {
    emit(self, "", messages::stage_from_string(r.status), 0, false, r.error);
    self->state.promise.deliver(std::move(r));
    self->quit();
  };
  if (!self->state.deps.journal) return deliver();
  watched_service(
    self, step_timeout, self->state.deps.journal,
    messages::journal_entry{messages::journal_record::finish, r.job, r.status, text, {}, 0, {}},
    [deliver](bool) mutable { deliver(); },
    [deliver, self](caf::error& err) mutable {
      emit(self, "", messages::stage::error, 0, false, self->system().render(err));
      deliver();
    });
}

} // namespace

void finish(self_ptr self) {
  auto& st = self->state;
  if (st.finishing) return;
  st.finishing = true;
  messages::job_report r;
  r.job = st.plan.session_id;
  r.request = st.plan.request;
  r.output = st.output;
  r.composition_commit = st.composition_commit;
  r.error = st.failure.empty() ? st.budget_error : st.failure;
  r.elapsed_ms =
    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - st.started).count();
  size_t landed = 0;
  for (auto& s : st.slots) {
    r.components.push_back(s.report);
    if (on_main(s)) ++landed;
  }
  // A deadline that passed after some components landed leaves a partial page.
  bool fatal = !st.failure.empty() && !st.deadline_passed;
  r.status = messages::to_string(st.cancelled                                      ? messages::job_state::cancelled
                                 : fatal || landed == 0                            ? messages::job_state::failed
                                 : landed == st.slots.size() && st.failure.empty() ? messages::job_state::done
                                                                                   : messages::job_state::partial);
  // The report carries what the job cost in model tokens; ask the router last
  // (and, in a cluster, the workers' routers for the attempts they ran).
  watched_service(
    self, step_timeout, st.deps.router, messages::usage_request{r.job},
    [self, r](messages::job_usage& u) mutable {
      r.model_usage = std::move(u);
      if (!self->state.deps.placement) return record(self, std::move(r));
      watched_request(
        self, step_timeout, self->state.deps.placement, messages::usage_request{r.job},
        [self, r](const messages::job_usage& remote) mutable {
          logic::routing::merge_usage(r.model_usage, remote, {});
          record(self, std::move(r));
        },
        [self, r](caf::error&) mutable { record(self, std::move(r)); });
    },
    [self, r](caf::error&) mutable {
      emit(self, "", messages::stage_from_string(r.status), 0, false, r.error);
      self->state.promise.deliver(std::move(r));
      self->quit();
    });
}

void lease(self_ptr self, size_t idx) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  if (!st.deps.leases) {
    spawn_attempt(self, idx);
    return;
  }
  s.at = phase::leasing;
  ask_service(
    self, st.deps.leases, caf::infinite,
    messages::lease_acquire{s.spec.name, st.plan.session_id, s.spec.action == "edit"},
    [self, idx](uint32_t lane) {
      auto& st = self->state;
      auto& s = st.slots[idx];
      if (s.at != phase::leasing) {
        // The job stopped meanwhile: give the name straight back.
        self->send(st.deps.leases, messages::lease_release{s.spec.name, st.plan.session_id});
        return;
      }
      s.leased = true;
      s.lane = lane;
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
  // --fresh: in the plan the journal keeps, so a resumed job regenerates too.
  if (st.fresh) {
    for (auto& c : st.plan.components) c.action = "regenerate";
  }
  std::vector<std::string> names;
  for (auto& c : st.plan.components) names.push_back(c.name);
  messages::journal_entry entry{
    messages::journal_record::plan, st.plan.session_id, "running", messages::plan_to_text(st.plan), names, 0, {}};
  // The plan is on disk before any component starts: a resumed job builds the same components.
  journaled(self, std::move(entry), [self] {
    auto& st = self->state;
    if (st.finishing) return; // the deadline ended the job while the plan was written
    emit(self, "", messages::stage::planned, 0, false, std::to_string(st.plan.components.size()) + " components");
    for (auto& c : st.plan.components) {
      component_slot s;
      s.spec = c;
      s.report.name = c.name;
      s.report.action = c.action;
      s.use_cache = c.action == "create";
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
  emit(self, "", messages::stage::composing, 0, false, std::to_string(req.artifacts.size()) + " components");
  journaled(
    self, {messages::journal_record::state, st.plan.session_id, "composing", {}, {}, 0, {}},
    [self, req = std::move(req)]() mutable {
      auto c = self->spawn(composer, self->state.deps.integrator);
      watched_request(
        self, step_timeout, c, std::move(req),
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

} // namespace job_flow

namespace {

using namespace job_flow;

job_supervisor_actor::behavior_type job_supervisor(self_ptr self, job_deps deps) {
  auto& st = self->state;
  st.deps = std::move(deps);
  auto& r = st.deps.settings.restart;
  logic::supervision::child_spec generator_spec; // transient: a crash is restarted, a normal end is not
  st.restarts.emplace(generator_spec.restart, r.intensity, logic::supervision::millis{r.period_ms},
                      logic::supervision::backoff_policy{logic::supervision::millis{r.backoff_base_ms},
                                                         logic::supervision::millis{r.backoff_max_ms}, r.jitter});
  // Worktree actors are linked so they die with us; one of them failing (it
  // could not open the repository) is reported through its requests and must
  // not take the whole job down with it.
  self->set_exit_handler([](caf::exit_msg&) {});
  // An error sent as a one-way message (not an answer) would stop the job by
  // CAF's default; it is recorded instead.
  self->set_error_handler([self](caf::error& err) {
    emit(self, "", messages::stage::error, 0, false, "unexpected error message: " + self->system().render(err));
  });
  // A bug must not leave a client waiting: an exception ends the job failed, with its report.
  self->set_exception_handler([self](std::exception_ptr& eptr) -> caf::error {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(eptr);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {}
    auto& st = self->state;
    auto why = "internal error in the job supervisor: " + what;
    emit(self, "", messages::stage::failed, 0, false, why);
    if (st.promise.pending()) {
      messages::job_report r;
      r.job = st.plan.session_id;
      r.request = st.plan.request;
      r.status = messages::to_string(messages::job_state::failed);
      r.error = why;
      for (auto& slot : st.slots) r.components.push_back(slot.report);
      st.promise.deliver(std::move(r));
    }
    return make_caf_error(messages::errc::io, why);
  });
  self->set_down_handler([self](caf::down_msg& msg) {
    if (msg.reason == caf::exit_reason::normal) return;
    for (size_t i = 0; i < self->state.slots.size(); ++i) {
      auto& s = self->state.slots[i];
      if (s.gen && s.gen.address() == msg.source && s.at == phase::generating) {
        on_crash(self, i, self->system().render(msg.reason), msg.reason == caf::exit_reason::remote_link_unreachable);
        return;
      }
    }
  });
  return {
    [self](messages::job_start& req) -> caf::result<messages::job_report> {
      auto& st = self->state;
      st.started = std::chrono::steady_clock::now();
      auto limit = std::chrono::milliseconds{st.deps.settings.job_timeout_ms};
      st.deadline = st.started + limit;
      self->delayed_send(
        self, limit,
        messages::job_cancel{"the job's deadline (job_timeout_ms " + std::to_string(limit.count()) + ") passed", true});
      st.promise = self->make_response_promise<messages::job_report>();
      st.fresh = req.fresh;
      if (req.has_plan) {
        if (!req.job.empty()) req.ready_plan.session_id = req.job;
        st.plan.session_id = req.ready_plan.session_id;
        st.plan.request = req.ready_plan.request;
        emit(self, "", messages::stage::started, 0, false, req.ready_plan.request);
        journaled(self, {messages::journal_record::begin, st.plan.session_id, {}, st.plan.request, {}, 0, {}},
                  [self, p = std::move(req.ready_plan)]() mutable { start(self, std::move(p)); });
        return st.promise;
      }
      st.plan.session_id = req.job.empty() ? messages::new_session_id() : req.job;
      st.plan.request = req.request;
      emit(self, "", messages::stage::started, 0, false, req.request);
      journaled(self, {messages::journal_record::begin, st.plan.session_id, {}, req.request, {}, 0, {}},
                [self, request = req.request] {
                  emit(self, "", messages::stage::planning);
                  watched_service(
                    self, step_timeout, self->state.deps.customer,
                    messages::plan_request{self->state.plan.session_id, request},
                    [self](messages::plan& p) {
                      if (!self->state.finishing)
                        start(self, std::move(p)); // else the deadline ended the job meanwhile
                    },
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
      if (msg.deadline) {
        // Stop what is in flight; what landed is composed, and the report names the deadline.
        if (st.composing || st.deadline_passed) return;
        st.deadline_passed = true;
        if (st.slots.empty()) {
          st.failure = msg.reason;
          finish(self);
          return;
        }
        fail_job(self, msg.reason);
        return;
      }
      st.cancelled = true;
      if (st.slots.empty()) {
        // Still planning: nothing touched the repository yet.
        st.failure = "cancelled: " + msg.reason;
        finish(self);
        return;
      }
      fail_job(self, "cancelled: " + msg.reason);
    },
    [self](step_timer_atom) { on_watch_timer(self); },
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
