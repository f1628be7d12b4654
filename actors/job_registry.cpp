#include "actors/job_registry.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <optional>
#include <map>
#include <set>

#include <caf/all.hpp>

#include "actors/caf_error.hpp"
#include "actors/telemetry.hpp"
#include "messages/codec.hpp"

namespace grove::actors {

namespace {

struct job_entry {
  messages::job_status status;
  job_supervisor_actor sup;
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
  static inline const char* name = "job_registry";
};

using self_ptr = job_registry_actor::stateful_pointer<registry_state>;

void check_drained(self_ptr self) {
  auto& st = self->state;
  if (!st.draining || st.in_flight > 0) return;
  for (auto& rp : st.drain_waiters) rp.deliver(true);
  st.drain_waiters.clear();
}

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
  --st.in_flight;
  st.finished_order.push_back(job);
  while (st.finished_order.size() > st.limits.history) {
    st.jobs.erase(st.finished_order.front());
    st.finished_order.pop_front();
  }
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
  if (st.in_flight >= st.limits.max_jobs_in_flight) {
    return make_caf_error(messages::errc::busy, std::to_string(st.in_flight) +
                                                  " jobs in flight: the server's limit is " +
                                                  std::to_string(st.limits.max_jobs_in_flight) + " (--max-jobs)");
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

caf::result<std::string> submit(self_ptr self, messages::submit_job& req, job_sink_actor sink) {
  auto& st = self->state;
  if (auto no = refusal(st)) return std::move(*no);
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
  e.sup = st.spawn();
  ++st.in_flight;
  self->request(e.sup, caf::infinite, std::move(req.start))
    .then([self, job](messages::job_report& r) { on_report(self, job, std::move(r)); },
          [self, job](caf::error& err) {
            messages::job_report r;
            r.job = job;
            r.status = "failed";
            r.error = self->system().render(err);
            finished(self, job, std::move(r));
          });
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

caf::result<bool> cancel(self_ptr self, const messages::cancel_job& req) {
  auto it = self->state.jobs.find(req.job);
  if (it == self->state.jobs.end()) return make_caf_error(messages::errc::not_found, "unknown job " + req.job);
  if (it->second.status.finished || !it->second.sup) return false;
  self->send(it->second.sup, messages::job_cancel{req.reason.empty() ? "cancelled by a client" : req.reason});
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
  auto rp = self->make_response_promise<bool>();
  st.drain_waiters.push_back(rp);
  check_drained(self);
  return rp;
}

job_registry_actor::behavior_type registry(self_ptr self, job_spawner spawn, registry_limits limits) {
  self->state.spawn = std::move(spawn);
  self->state.limits = limits;
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

job_registry_actor spawn_job_registry(caf::actor_system& sys, job_spawner spawn, registry_limits limits) {
  return sys.spawn(registry, std::move(spawn), limits);
}

} // namespace grove::actors
