#include "actors/job_registry.hpp"

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
    [self](messages::submit_job& req, job_sink_actor sink) -> caf::result<std::string> {
      auto& st = self->state;
      if (st.draining)
        return make_caf_error(messages::errc::shutting_down, "the server is shutting down and takes no new jobs");
      if (st.in_flight >= st.limits.max_jobs_in_flight) {
        return make_caf_error(messages::errc::busy, std::to_string(st.in_flight) +
                                                      " jobs in flight: the server's limit is " +
                                                      std::to_string(st.limits.max_jobs_in_flight) + " (--max-jobs)");
      }
      auto job = req.start.job.empty()
                   ? (req.start.has_plan && !req.start.ready_plan.session_id.empty() ? req.start.ready_plan.session_id
                                                                                     : messages::new_session_id())
                   : req.start.job;
      if (st.jobs.count(job)) job = messages::new_session_id();
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
        .then(
          [self, job](messages::job_report& r) {
            // Events travel through the event bus, the report comes straight
            // back: hold the report until the job's last event went out.
            auto it = self->state.jobs.find(job);
            if (it != self->state.jobs.end() && !it->second.saw_final_event) {
              it->second.pending_report = std::move(r);
              return;
            }
            finished(self, job, std::move(r));
          },
          [self, job](caf::error& err) {
            messages::job_report r;
            r.job = job;
            r.status = "failed";
            r.error = self->system().render(err);
            finished(self, job, std::move(r));
          });
      return job;
    },
    [self](subscribe_atom, const std::string& job, job_sink_actor sink) -> caf::result<bool> {
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
    },
    [self](const messages::status_request& req) -> caf::result<messages::status_reply> {
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
    },
    [self](const messages::cancel_job& req) -> caf::result<bool> {
      auto it = self->state.jobs.find(req.job);
      if (it == self->state.jobs.end()) return make_caf_error(messages::errc::not_found, "unknown job " + req.job);
      if (it->second.status.finished || !it->second.sup) return false;
      self->send(it->second.sup, messages::job_cancel{req.reason.empty() ? "cancelled by a client" : req.reason});
      return true;
    },
    [self](messages::telemetry_event& ev) {
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
        if (e.pending_report) finished(self, ev.job, std::move(*e.pending_report));
      }
    },
    [self](messages::job_status& js) {
      // A job that finished before a restart: known to status and subscribe, not in flight.
      auto& st = self->state;
      if (st.jobs.count(js.job)) return;
      auto id = js.job;
      st.jobs[id].status = std::move(js);
      st.finished_order.push_back(id);
    },
    [self](drain_atom, bool cancel_running) -> caf::result<bool> {
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
    },
  };
}

} // namespace

job_registry_actor spawn_job_registry(caf::actor_system& sys, job_spawner spawn, registry_limits limits) {
  return sys.spawn(registry, std::move(spawn), limits);
}

} // namespace grove::actors
