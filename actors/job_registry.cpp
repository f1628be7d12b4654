#include "actors/job_registry.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <optional>
#include <map>
#include <set>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/caf_error.hpp"
#include "actors/service_call.hpp"
#include "actors/telemetry.hpp"
#include "logic/fair_queue.hpp"
#include "messages/codec.hpp"

namespace grove::actors {

namespace {

struct job_entry {
  messages::job_status status;
  job_supervisor_actor sup;
  bool running = false;                       ///< started (counted in flight), not waiting in the queue
  size_t told_position = 0;                   ///< the last queue position its followers heard
  std::optional<messages::job_start> waiting; ///< what to start once its turn comes
  std::vector<job_sink_actor> sinks;
  bool saw_final_event = false;
  std::optional<messages::job_report> pending_report;
};

struct registry_state {
  job_spawner spawn;
  registry_limits limits;
  std::map<std::string, job_entry> jobs;
  std::deque<std::string> finished_order;
  std::vector<job_sink_actor> all_sinks;
  size_t in_flight = 0;
  bool draining = false;
  std::vector<caf::typed_response_promise<bool>> drain_waiters;
  logic::fair_queue queue;
  journal_actor journal;
  job_admission admit;
  static inline const char* name = "job_registry";
};

using self_ptr = job_registry_actor::stateful_pointer<registry_state>;

void check_drained(self_ptr self) {
  auto& st = self->state;
  if (!st.draining || st.in_flight > 0) return;
  for (auto& rp : st.drain_waiters) rp.deliver(true);
  st.drain_waiters.clear();
}

void start_waiting(self_ptr self);

void finished(self_ptr self, const std::string& job, messages::job_report report) {
  auto& st = self->state;
  auto it = st.jobs.find(job);
  if (it == st.jobs.end()) return;
  auto& e = it->second;
  if (e.status.finished) return; // once: by the report after its last event, or after the grace
  e.pending_report.reset();
  e.status.finished = true;
  e.status.state = messages::job_state_from_string(report.status).value_or(messages::job_state::failed);
  e.status.report = report;
  e.status.updated_ms = now_ms();
  for (auto& s : e.sinks) self->send(s, report);
  for (auto& s : st.all_sinks) self->send(s, report);
  e.sinks.clear();
  e.sup = nullptr;
  if (e.running) --st.in_flight;
  e.running = false;
  st.finished_order.push_back(job);
  while (st.finished_order.size() > st.limits.history) {
    st.jobs.erase(st.finished_order.front());
    st.finished_order.pop_front();
  }
  start_waiting(self);
  check_drained(self);
}

// How long a report waits for its job's last event (which travels through the
// event bus) before it goes out anyway: an event lost with a restarted
// telemetry actor must not leave the job unfinished for its clients.
constexpr auto last_event_grace = std::chrono::seconds{2};

// Why a new job is refused now, if it is.
std::optional<caf::error> refusal(const registry_state& st) {
  if (st.draining) {
    return make_caf_error(messages::errc::shutting_down, "the server is shutting down and takes no new jobs");
  }
  if (st.in_flight >= st.limits.max_jobs_in_flight && st.queue.size() >= st.limits.max_queued) {
    return make_caf_error(messages::errc::busy,
                          std::to_string(st.in_flight) + " jobs in flight and " + std::to_string(st.queue.size()) +
                            " waiting: the server's limits are " + std::to_string(st.limits.max_jobs_in_flight) +
                            " (--max-jobs) and " + std::to_string(st.limits.max_queued) + " queued (--max-queued)");
  }
  return std::nullopt;
}

// The id a new job runs under: the one asked for (or its plan's), unless taken.
std::string job_id_for(const messages::job_start& start, const std::map<std::string, job_entry>& jobs) {
  auto job = start.job;
  if (job.empty()) job = start.has_plan ? start.ready_plan.session_id : std::string{};
  if (job.empty() || jobs.count(job)) job = messages::new_session_id();
  return job;
}

// A job supervisor's report came back.
void on_report(self_ptr self, const std::string& job, messages::job_report r) {
  auto it = self->state.jobs.find(job);
  if (it == self->state.jobs.end()) return;
  if (it->second.saw_final_event) return finished(self, job, std::move(r));
  // Events travel through the event bus, the report comes straight back:
  // hold the report until the job's last event went out (or the grace ends).
  it->second.pending_report = std::move(r);
  self->delayed_send(self, last_event_grace, flush_atom::value, job);
}

// Starts `job` under a new job supervisor; its report comes back to on_report.
void start(self_ptr self, const std::string& job, messages::job_start start) {
  auto& st = self->state;
  auto& e = st.jobs[job];
  e.running = true;
  e.waiting.reset();
  e.sup = st.spawn();
  ++st.in_flight;
  self->request(e.sup, caf::infinite, std::move(start))
    .then([self, job](messages::job_report& r) { on_report(self, job, std::move(r)); },
          [self, job](caf::error& err) {
            messages::job_report r;
            r.job = job;
            r.status = messages::to_string(messages::job_state::failed);
            r.error = self->system().render(err);
            finished(self, job, std::move(r));
          });
}

// Tells every waiting job whose place in the line changed where it stands now.
void tell_positions(self_ptr self) {
  auto& st = self->state;
  auto order = st.queue.order();
  for (size_t i = 0; i < order.size(); ++i) {
    auto it = st.jobs.find(order[i]);
    if (it == st.jobs.end() || it->second.told_position == i + 1) continue;
    auto& e = it->second;
    e.told_position = i + 1;
    messages::telemetry_event ev;
    ev.job = order[i];
    ev.stage = messages::stage::queued;
    ev.attempt = static_cast<uint32_t>(i + 1);
    ev.detail = "position " + std::to_string(i + 1) + " of " + std::to_string(order.size()) + ": waiting for one of " +
                std::to_string(st.limits.max_jobs_in_flight) + " places (--max-jobs)";
    ev.ts_ms = now_ms();
    messages::apply_event(e.status, ev);
    for (auto& s : e.sinks) self->send(s, ev);
    for (auto& s : st.all_sinks) self->send(s, ev);
  }
}

// Best effort: a journal that cannot record the wait shows when the job starts and journals again.
void journal_note(self_ptr self, messages::journal_entry e) {
  if (!self->state.journal) return;
  ask_service(
    self, self->state.journal, std::chrono::seconds{30}, std::move(e), [](bool) {}, [](caf::error&) {});
}

// Puts `job` in `owner`'s line, recorded in the journal so a restart resumes it.
void enqueue(self_ptr self, const std::string& job, const std::string& owner, messages::job_start start) {
  auto& st = self->state;
  using messages::journal_record;
  journal_note(self, {journal_record::begin, job, {}, start.request, {}, 0, {}});
  if (start.has_plan) {
    std::vector<std::string> names;
    for (auto& c : start.ready_plan.components) names.push_back(c.name);
    journal_note(self, {journal_record::plan, job, {}, messages::plan_to_text(start.ready_plan), names, 0, {}});
  }
  journal_note(self, {journal_record::state, job, "queued", {}, {}, 0, {}});
  st.jobs[job].waiting = std::move(start);
  st.queue.push(owner, job);
  tell_positions(self);
}

// Starts waiting jobs while there is room (not while draining: they stay journaled for the next start).
void start_waiting(self_ptr self) {
  auto& st = self->state;
  bool moved = false;
  while (!st.draining && st.in_flight < st.limits.max_jobs_in_flight) {
    auto next = st.queue.pop();
    if (!next) break;
    auto it = st.jobs.find(*next);
    if (it == st.jobs.end() || !it->second.waiting) continue;
    start(self, *next, std::move(*it->second.waiting));
    moved = true;
  }
  if (moved) tell_positions(self);
}

caf::result<std::string> submit(self_ptr self, messages::submit_job& req, job_sink_actor sink) {
  auto& st = self->state;
  if (auto no = refusal(st)) return std::move(*no);
  if (st.admit) {
    if (auto no = st.admit(req.start)) return make_caf_error(no->code, no->message);
  }
  auto job = job_id_for(req.start, st.jobs);
  req.start.job = job;
  auto& e = st.jobs[job];
  e.status.job = job;
  e.status.request = req.start.has_plan ? req.start.ready_plan.request : req.start.request;
  e.status.state = messages::job_state::queued;
  e.status.started_ms = now_ms();
  e.status.updated_ms = e.status.started_ms;
  if (sink) {
    self->monitor(sink);
    e.sinks.push_back(sink);
  }
  if (st.in_flight < st.limits.max_jobs_in_flight) {
    start(self, job, std::move(req.start));
  } else {
    enqueue(self, job, sink ? std::to_string(sink->id()) : std::string{}, std::move(req.start));
  }
  return job;
}

caf::result<bool> subscribe(self_ptr self, const std::string& job, job_sink_actor sink) {
  auto& st = self->state;
  self->monitor(sink);
  if (job == "*") {
    st.all_sinks.push_back(sink);
    return true;
  }
  auto it = st.jobs.find(job);
  if (it == st.jobs.end()) return false;
  if (!it->second.status.finished) {
    it->second.sinks.push_back(sink);
    return true;
  }
  // Answer first, then the stored result: the subscriber sees "subscribed" before it.
  auto rp = self->make_response_promise<bool>();
  rp.deliver(true);
  self->send(sink, it->second.status.report);
  return rp;
}

caf::result<messages::status_reply> status_of(self_ptr self, const messages::status_request& req) {
  messages::status_reply out;
  auto& st = self->state;
  if (!req.job.empty()) {
    auto it = st.jobs.find(req.job);
    if (it == st.jobs.end()) return make_caf_error(messages::errc::not_found, "unknown job " + req.job);
    out.jobs.push_back(it->second.status);
    return out;
  }
  for (auto& [_, e] : st.jobs) out.jobs.push_back(e.status);
  std::sort(out.jobs.begin(), out.jobs.end(), [](auto& a, auto& b) { return a.started_ms < b.started_ms; });
  return out;
}

// Ends a job that never started: its report says cancelled, and the journal too.
void cancel_waiting(self_ptr self, const std::string& job, const std::string& why) {
  messages::job_report r;
  r.job = job;
  r.status = messages::to_string(messages::job_state::cancelled);
  r.error = why;
  auto it = self->state.jobs.find(job);
  if (it != self->state.jobs.end()) r.request = it->second.status.request;
  journal_note(self, {messages::journal_record::finish, job, r.status, messages::report_to_json(r).dump(), {}, 0, {}});
  finished(self, job, std::move(r));
  tell_positions(self);
}

caf::result<bool> cancel(self_ptr self, const messages::cancel_job& req) {
  auto it = self->state.jobs.find(req.job);
  if (it == self->state.jobs.end()) return make_caf_error(messages::errc::not_found, "unknown job " + req.job);
  auto why = req.reason.empty() ? std::string{"cancelled by a client"} : req.reason;
  if (it->second.status.finished) return false;
  if (self->state.queue.remove(req.job)) {
    cancel_waiting(self, req.job, why);
    return true;
  }
  if (!it->second.sup) return false;
  self->send(it->second.sup, messages::job_cancel{why});
  return true;
}

// An event from the bus: folded into the job's row and passed to its followers.
void on_event(self_ptr self, messages::telemetry_event& ev) {
  auto& st = self->state;
  auto it = st.jobs.find(ev.job);
  if (it == st.jobs.end() || it->second.status.finished) return;
  auto& e = it->second;
  bool last = messages::final_state_of(ev.stage) && ev.component.empty();
  if (!last) messages::apply_event(e.status, ev);
  for (auto& s : e.sinks) self->send(s, ev);
  for (auto& s : st.all_sinks) self->send(s, ev);
  if (last) {
    e.saw_final_event = true;
    if (e.pending_report) finished(self, ev.job, *e.pending_report);
  }
}

// A job that finished before a restart: known to status and subscribe, not in flight.
void remember_finished(self_ptr self, messages::job_status& js) {
  auto& st = self->state;
  if (st.jobs.count(js.job)) return;
  auto id = js.job;
  st.jobs[id].status = std::move(js);
  st.finished_order.push_back(id);
}

caf::result<bool> drain(self_ptr self, bool cancel_running) {
  auto& st = self->state;
  st.draining = true;
  if (cancel_running) {
    for (auto& [_, e] : st.jobs) {
      if (!e.status.finished && e.sup) self->send(e.sup, messages::job_cancel{"the server is shutting down"});
    }
  }
  // Jobs still waiting stay in the journal as queued: the next start resumes them.
  auto rp = self->make_response_promise<bool>();
  st.drain_waiters.push_back(rp);
  check_drained(self);
  return rp;
}

job_registry_actor::behavior_type registry(self_ptr self, job_spawner spawn, registry_limits limits,
                                           journal_actor journal, job_admission admit) {
  self->state.spawn = std::move(spawn);
  self->state.admit = std::move(admit);
  self->state.limits = limits;
  self->state.journal = std::move(journal);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    auto gone = [&](const job_sink_actor& s) { return s.address() == msg.source; };
    st.all_sinks.erase(std::remove_if(st.all_sinks.begin(), st.all_sinks.end(), gone), st.all_sinks.end());
    for (auto& [_, e] : st.jobs) e.sinks.erase(std::remove_if(e.sinks.begin(), e.sinks.end(), gone), e.sinks.end());
  });
  return {
    [self](messages::submit_job& req, job_sink_actor sink) { return submit(self, req, std::move(sink)); },
    [self](subscribe_atom, const std::string& job, job_sink_actor sink) { return subscribe(self, job, sink); },
    [self](const messages::status_request& req) { return status_of(self, req); },
    [self](const messages::cancel_job& req) { return cancel(self, req); },
    [self](messages::telemetry_event& ev) { on_event(self, ev); },
    [self](messages::job_status& js) { remember_finished(self, js); },
    [self](drain_atom, bool cancel_running) { return drain(self, cancel_running); },
    [self](flush_atom, const std::string& job) {
      auto it = self->state.jobs.find(job);
      if (it != self->state.jobs.end() && it->second.pending_report) {
        finished(self, job, *it->second.pending_report);
      }
    },
  };
}

} // namespace

job_registry_actor spawn_job_registry(caf::actor_system& sys, job_spawner spawn, registry_limits limits,
                                      journal_actor journal, job_admission admit) {
  return sys.spawn(registry, std::move(spawn), limits, std::move(journal), std::move(admit));
}

} // namespace grove::actors
