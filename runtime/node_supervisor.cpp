#include "runtime/node_supervisor.hpp"

#include <random>

#include <caf/all.hpp>

#include "actors/service_proxy.hpp"
#include "actors/telemetry.hpp"

namespace grove::runtime {

namespace sv = logic::supervision;

namespace {

using restart_atom = caf::atom_constant<caf::atom("svc_again")>;

struct child {
  service_spec spec;
  caf::actor instance;
  uint32_t restarts = 0;
};

struct supervisor_state {
  std::vector<child> children;
  node_supervisor_options opts;
  std::optional<sv::restart_policy> restarts; ///< one intensity for the whole node
  std::mt19937_64 rng{std::random_device{}()};
  bool stopping = false;
  static inline const char* name = "node_supervisor";
};

using self_ptr = caf::stateful_actor<supervisor_state>*;

void emit(self_ptr self, const std::string& service, messages::stage s, std::string detail) {
  auto& tel = self->state.opts.telemetry;
  if (!tel) return;
  messages::telemetry_event ev;
  ev.component = service;
  ev.stage = s;
  ev.detail = std::move(detail);
  self->send(tel, std::move(ev));
}

void start(self_ptr self, size_t idx) {
  auto& c = self->state.children[idx];
  c.instance = c.spec.start();
  self->monitor(c.instance);
  self->send(c.spec.proxy, actors::svc_set_atom::value, c.instance);
}

// Without `why`: stops every service and every proxy (shutdown). With it
// (a service given up): every proxy but telemetry's refuses work naming
// `why`, so jobs in flight end at once without recording an end in the
// journal (the next start resumes them), and their events still show.
void stop_all(self_ptr self, const std::string& why, const std::string& failed = {}) {
  auto& st = self->state;
  st.stopping = true;
  for (auto& c : st.children) {
    bool keep = c.spec.name == "telemetry" && failed != "telemetry";
    if (!why.empty() && !keep) self->send(c.spec.proxy, actors::svc_stop_atom::value, why);
    if (c.instance) {
      self->demonitor(c.instance);
      if (why.empty()) self->send_exit(c.instance, caf::exit_reason::user_shutdown);
    }
  }
  if (why.empty()) {
    for (auto& c : st.children) self->send_exit(c.spec.proxy, caf::exit_reason::user_shutdown);
    self->quit();
  }
}

void give_up(self_ptr self, const child& c, const std::string& reason) {
  auto& p = self->state.opts.policy;
  auto why = "node stopping: the " + c.spec.name + " service failed (" + reason + ") past its restart limit of " +
             std::to_string(p.intensity) + " within " + std::to_string(p.period_ms) +
             " ms; unfinished jobs stay in the journal and resume on the next start";
  emit(self, c.spec.name, messages::stage::service_failed, why);
  stop_all(self, why, c.spec.name);
  if (self->state.opts.on_give_up) self->state.opts.on_give_up(why);
}

void on_down(self_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  if (st.stopping) return;
  size_t idx = 0;
  while (idx < st.children.size() && st.children[idx].instance.address() != msg.source) ++idx;
  if (idx == st.children.size()) return;
  auto& c = st.children[idx];
  c.instance = nullptr;
  auto reason = msg.reason ? self->system().render(msg.reason) : std::string{"stopped"};
  if (!sv::should_restart(c.spec.spec.restart, static_cast<bool>(msg.reason))) return;
  // One intensity for the whole node: any service's restart counts against it.
  auto d =
    st.restarts->on_exit(true, c.restarts, sv::clock::now(), std::uniform_real_distribution<double>{0, 1}(st.rng));
  if (d.kind == sv::decision::give_up) {
    give_up(self, c, reason);
    return;
  }
  if (d.kind == sv::decision::leave) return;
  auto delay = d.delay;
  // Messages for it wait in its proxy until the new instance runs.
  self->send(c.spec.proxy, actors::svc_hold_atom::value);
  ++c.restarts;
  emit(self, c.spec.name, messages::stage::service_restarted,
       c.spec.name + " restarted after " + reason + " (restart " + std::to_string(c.restarts) + ", in " +
         std::to_string(delay.count()) + " ms)");
  self->delayed_send(self, delay, restart_atom::value, static_cast<uint64_t>(idx));
}

caf::behavior node_supervisor(self_ptr self, std::vector<service_spec> services, node_supervisor_options opts) {
  auto& st = self->state;
  st.restarts.emplace(sv::restart_type::permanent, opts.policy.intensity, sv::millis{opts.policy.period_ms},
                      sv::backoff_policy{sv::millis{opts.policy.backoff_base_ms},
                                         sv::millis{opts.policy.backoff_max_ms}, opts.policy.jitter});
  st.opts = std::move(opts);
  for (auto& s : services) st.children.push_back({std::move(s), nullptr, 0});
  for (size_t i = 0; i < st.children.size(); ++i) start(self, i);
  self->set_down_handler([self](caf::down_msg& msg) { on_down(self, msg); });
  return {
    [self](restart_atom, uint64_t idx) {
      if (self->state.stopping || idx >= self->state.children.size()) return;
      start(self, idx);
    },
    // The instance running now (tests kill it), or none while it restarts.
    [self](caf::get_atom, const std::string& name) -> caf::actor {
      for (auto& c : self->state.children) {
        if (c.spec.name == name) return c.instance;
      }
      return nullptr;
    },
    [self](actors::svc_stop_atom, const std::string& why) { stop_all(self, why); },
  };
}

} // namespace

caf::actor spawn_node_supervisor(caf::actor_system& sys, std::vector<service_spec> services,
                                 node_supervisor_options opts) {
  return sys.spawn(node_supervisor, std::move(services), std::move(opts));
}

} // namespace grove::runtime
