#include "actors/cluster.hpp"

#include <algorithm>
#include <deque>
#include <map>

#include <caf/all.hpp>

#include "logic/routing.hpp"
#include "messages/clock.hpp"

namespace grove::actors {

namespace {

using messages::node_info;
using messages::placement_request;

constexpr auto spawn_timeout = std::chrono::seconds{5};
constexpr size_t max_nodes = 256;      ///< names remembered, lost ones included
constexpr size_t max_name_bytes = 128; ///< a node's name, address, each provider name
constexpr size_t max_providers = 64;
constexpr uint32_t max_capacity = 100000;

struct waiting {
  placement_request req;
  caf::typed_response_promise<caf::actor, std::string> rp;
};

struct node_entry {
  node_info info;
  worker_actor host;
};

struct cluster_state {
  cluster_config cfg;
  std::map<std::string, node_entry> nodes;
  std::map<caf::actor_addr, std::string> generators; ///< live generators and their node
  std::deque<waiting> queue;
  static inline const char* name = "cluster";
};

using cluster_ptr = cluster_actor::stateful_pointer<cluster_state>;

void event(cluster_ptr self, const std::string& node, messages::stage stage, std::string detail) {
  if (!self->state.cfg.telemetry) return;
  messages::telemetry_event ev;
  ev.component = node;
  ev.node = node;
  ev.stage = stage;
  ev.detail = std::move(detail);
  ev.ts_ms = messages::now_ms();
  self->send(self->state.cfg.telemetry, std::move(ev));
}

void log(cluster_ptr self, const std::string& line) {
  if (self->state.cfg.log) self->state.cfg.log(line);
}

bool has_provider(const node_info& n, const std::string& p) {
  return std::find(n.providers.begin(), n.providers.end(), p) != n.providers.end();
}

// The node for a request among those with free capacity, or null.
node_entry* choose(cluster_ptr self, const placement_request& req) {
  std::vector<node_entry*> free;
  for (auto& [_, n] : self->state.nodes) {
    if (n.info.up && n.info.in_flight < n.info.capacity) free.push_back(&n);
  }
  if (free.empty()) return nullptr;
  auto keep_if = [&free](auto pred) {
    std::vector<node_entry*> some;
    for (auto* n : free)
      if (pred(*n)) some.push_back(n);
    if (!some.empty()) free = std::move(some);
  };
  if (!req.prefer_provider.empty()) keep_if([&](node_entry& n) { return has_provider(n.info, req.prefer_provider); });
  if (!req.avoid_node.empty()) keep_if([&](node_entry& n) { return n.info.name != req.avoid_node; });
  return *std::max_element(free.begin(), free.end(), [](node_entry* a, node_entry* b) {
    auto fa = a->info.capacity - a->info.in_flight;
    auto fb = b->info.capacity - b->info.in_flight;
    if (fa != fb) return fa < fb;
    return a->info.placed > b->info.placed; // the less used wins a tie
  });
}

void pump(cluster_ptr self);

// Asks the node for a generator; on failure the request goes back to the front of the line.
void place(cluster_ptr self, node_entry& n, waiting w) {
  ++n.info.in_flight;
  ++n.info.placed;
  auto name = n.info.name;
  self->request(n.host, spawn_timeout, make_gen_atom::value)
    .then(
      [self, name, w](caf::actor& gen) mutable {
        auto i = self->state.nodes.find(name);
        if (!gen) {
          if (i != self->state.nodes.end() && i->second.info.in_flight > 0) --i->second.info.in_flight;
          w.rp.deliver(caf::make_error(caf::sec::cannot_spawn_actor_from_arguments));
          pump(self);
          return;
        }
        self->monitor(gen);
        self->state.generators[gen.address()] = name;
        if (i != self->state.nodes.end()) i->second.info.last_seen_ms = messages::now_ms();
        w.rp.deliver(std::move(gen), name);
      },
      [self, name, w](caf::error&) mutable {
        // The node went away between choosing and spawning: choose again.
        if (auto i = self->state.nodes.find(name); i != self->state.nodes.end() && i->second.info.in_flight > 0) {
          --i->second.info.in_flight;
        }
        self->state.queue.push_front(std::move(w));
        pump(self);
      });
}

void pump(cluster_ptr self) {
  auto& q = self->state.queue;
  auto now = messages::now_ms();
  for (auto it = q.begin(); it != q.end();) {
    if (it->req.deadline_ms > 0 && it->req.deadline_ms <= now) {
      it->rp.deliver(caf::make_error(caf::sec::request_timeout));
      it = q.erase(it);
      continue;
    }
    auto* n = choose(self, it->req);
    if (n == nullptr) return; // FIFO: nobody overtakes the head (a preference only picks among free nodes)
    auto w = std::move(*it);
    it = q.erase(it);
    place(self, *n, std::move(w));
  }
}

void lose(cluster_ptr self, node_entry& n, const std::string& why) {
  if (!n.info.up) return;
  n.info.up = false;
  ++n.info.lost;
  event(self, n.info.name, messages::stage::node_lost, why);
  log(self, "node " + n.info.name + " (" + n.info.address + ") lost: " + why);
}

} // namespace

cluster_actor spawn_cluster(caf::actor_system& sys, cluster_config cfg) {
  return sys.spawn([cfg](cluster_ptr self) -> cluster_actor::behavior_type {
    auto& st = self->state;
    st.cfg = cfg;
    if (cfg.local_capacity > 0 && cfg.local) {
      node_entry local;
      local.info.name = cfg.name;
      local.info.address = cfg.address;
      local.info.capacity = cfg.local_capacity;
      local.info.up = true;
      local.info.local = true;
      local.info.last_seen_ms = messages::now_ms();
      local.info.providers = cfg.providers;
      local.host = cfg.local;
      st.nodes[cfg.name] = std::move(local);
    }
    self->set_down_handler([self](caf::down_msg& msg) {
      auto& st = self->state;
      if (auto g = st.generators.find(msg.source); g != st.generators.end()) {
        if (auto i = st.nodes.find(g->second); i != st.nodes.end() && i->second.info.in_flight > 0) {
          --i->second.info.in_flight;
        }
        st.generators.erase(g);
        pump(self);
        return;
      }
      for (auto& [_, n] : st.nodes) {
        if (n.host && n.host.address() == msg.source) {
          auto why = msg.reason == caf::exit_reason::remote_link_unreachable
                       ? std::string{"connection lost (killed, frozen past the heartbeat timeout, or cut off)"}
                     : msg.reason == caf::exit_reason::user_shutdown ? std::string{"left the cluster (stopped)"}
                                                                     : self->system().render(msg.reason);
          lose(self, n, why);
          return;
        }
      }
    });
    self->delayed_send(self, cfg.probe_interval, probe_atom::value);
    return {
      [self](messages::node_hello& hello, caf::actor& host) -> caf::result<std::string, caf::actor> {
        auto& st = self->state;
        if (hello.name.empty() || hello.name == st.cfg.name || !host) {
          return caf::make_error(caf::sec::invalid_argument,
                                 "a worker needs a name of its own (not the serving node's \"" + st.cfg.name + "\")");
        }
        // What a peer sends is bounded: the table of nodes, and every text in it.
        if (hello.name.size() > max_name_bytes || hello.address.size() > max_name_bytes ||
            hello.providers.size() > max_providers || hello.capacity > max_capacity) {
          return caf::make_error(caf::sec::invalid_argument, "a node's name and address take at most " +
                                                               std::to_string(max_name_bytes) + " bytes, at most " +
                                                               std::to_string(max_providers) + " providers, capacity " +
                                                               std::to_string(max_capacity));
        }
        for (auto& p : hello.providers) {
          if (p.size() > max_name_bytes)
            return caf::make_error(caf::sec::invalid_argument, "a provider name is too long");
        }
        if (!st.nodes.count(hello.name) && st.nodes.size() >= max_nodes) {
          return caf::make_error(caf::sec::invalid_argument,
                                 "the cluster has " + std::to_string(max_nodes) + " nodes already");
        }
        auto& n = st.nodes[hello.name];
        bool rejoin = n.info.lost > 0 || n.host;
        if (n.host && n.host.address() != host.address()) self->demonitor(n.host.address());
        n.host = caf::actor_cast<worker_actor>(host);
        self->monitor(n.host);
        n.info.name = hello.name;
        n.info.address = hello.address;
        n.info.capacity = hello.capacity;
        n.info.providers = hello.providers;
        n.info.up = true;
        n.info.last_seen_ms = messages::now_ms();
        auto what = std::string{rejoin ? "rejoined" : "joined"} + " from " + hello.address + ", capacity " +
                    std::to_string(hello.capacity);
        event(self, hello.name, messages::stage::node_joined, what);
        log(self, "node " + hello.name + " " + what);
        pump(self);
        return {st.cfg.name, caf::actor_cast<caf::actor>(st.cfg.telemetry)};
      },
      [self](messages::placement_request& req) -> caf::result<caf::actor, std::string> {
        auto rp = self->make_response_promise<caf::actor, std::string>();
        self->state.queue.push_back({std::move(req), rp});
        pump(self);
        return rp;
      },
      [self](const messages::usage_request& req) -> caf::result<messages::job_usage> {
        // Every worker's router tallied the job's calls it made; the serving node's own router is asked by the job.
        std::vector<std::pair<std::string, worker_actor>> workers;
        for (auto& [name, n] : self->state.nodes) {
          if (n.info.up && !n.info.local) workers.emplace_back(name, n.host);
        }
        if (workers.empty()) return messages::job_usage{};
        auto rp = self->make_response_promise<messages::job_usage>();
        auto acc = std::make_shared<messages::job_usage>();
        auto waiting = std::make_shared<size_t>(workers.size());
        for (auto& [name, host] : workers) {
          auto done = [rp, acc, waiting]() mutable {
            if (--*waiting == 0) rp.deliver(*acc);
          };
          self->request(host, spawn_timeout, req)
            .then(
              [acc, done, node = name](const messages::job_usage& u) mutable {
                logic::routing::merge_usage(*acc, u, node);
                done();
              },
              [done](caf::error&) mutable { done(); }); // a node lost meanwhile: its calls go uncounted
        }
        return rp;
      },
      [self](nodes_atom) -> std::vector<node_info> {
        std::vector<node_info> out;
        for (auto& [_, n] : self->state.nodes) out.push_back(n.info);
        return out;
      },
      [self](probe_atom) {
        // Refreshes last_seen of every node that answers, and expires waiting requests past their deadline.
        auto& st = self->state;
        for (auto& [name, n] : st.nodes) {
          if (!n.info.up || n.info.local) {
            if (n.info.local) n.info.last_seen_ms = messages::now_ms();
            continue;
          }
          self->request(n.host, st.cfg.probe_interval * 2, probe_atom::value)
            .then(
              [self, name = name](uint32_t) {
                if (auto i = self->state.nodes.find(name); i != self->state.nodes.end()) {
                  i->second.info.last_seen_ms = messages::now_ms();
                }
              },
              [](caf::error&) {}); // a lost connection is the down handler's to report
        }
        pump(self);
        self->delayed_send(self, st.cfg.probe_interval, probe_atom::value);
      },
    };
  });
}

worker_actor spawn_worker_host(caf::actor_system& sys, generator_config cfg) {
  return sys.spawn(
    [cfg](worker_actor::stateful_pointer<std::map<caf::actor_addr, bool>> self) -> worker_actor::behavior_type {
      self->set_down_handler([self](caf::down_msg& msg) { self->state.erase(msg.source); });
      return {
        [self, cfg](make_gen_atom) -> caf::actor {
          auto gen = self->system().spawn(generator, cfg);
          self->monitor(gen);
          self->state[gen.address()] = true;
          return caf::actor_cast<caf::actor>(gen);
        },
        [self](probe_atom) -> uint32_t { return static_cast<uint32_t>(self->state.size()); },
        [self, cfg](const messages::usage_request& req) { return self->delegate(cfg.router, req); },
      };
    });
}

relay_actor spawn_relay(caf::actor_system& sys, std::string node_name) {
  struct relay_state {
    caf::actor target;
  };
  return sys.spawn([node_name](relay_actor::stateful_pointer<relay_state> self) -> relay_actor::behavior_type {
    return {
      [self, node_name](messages::telemetry_event& ev) {
        if (!self->state.target) return;
        if (ev.node.empty()) ev.node = node_name;
        caf::anon_send(self->state.target, std::move(ev));
      },
      [self](relay_target_atom, caf::actor& target) { self->state.target = std::move(target); },
    };
  });
}

} // namespace grove::actors
