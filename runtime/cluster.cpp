#include "runtime/cluster.hpp"

#include <fstream>
#include <map>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "actors/cluster.hpp"
#include "actors/generator.hpp"
#include "actors/llm_router.hpp"
#include "actors/telemetry.hpp"
#include "infra/http/http_client.hpp"
#include "runtime/node.hpp"

namespace grove::runtime {

using messages::errc;
using messages::make_failure;

messages::status configure_cluster(caf::actor_system_config& cfg, const config::cluster_settings& c) {
  cfg.load<caf::io::middleman>();
  cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::milliseconds{c.heartbeat_interval_ms}});
  cfg.set("middleman.connection-timeout", caf::timespan{std::chrono::milliseconds{c.connection_timeout_ms}});
  if (!c.tls()) return messages::ok();
  for (auto [key, file] :
       {std::pair{"certificate", &c.certificate}, std::pair{"key", &c.key}, std::pair{"ca_file", &c.ca_file}}) {
    if (file->empty()) {
      return make_failure(
        errc::invalid_config,
        std::string{"cluster TLS needs certificate, key and CA file together; "} + key + " is missing");
    }
    if (!std::ifstream{*file}) {
      return make_failure(errc::invalid_config, std::string{"cluster TLS: cannot read the "} + key + " file " + *file);
    }
  }
  cfg.load<caf::openssl::manager>();
  cfg.openssl_certificate = c.certificate;
  cfg.openssl_key = c.key;
  cfg.openssl_cafile = c.ca_file;
  return messages::ok();
}

messages::result<uint16_t> publish_cluster(caf::actor_system& sys, const actors::cluster_actor& cluster,
                                           const std::string& host, uint16_t port, bool tls) {
  auto got = tls ? caf::openssl::publish(cluster, port, host.c_str(), true)
                 : caf::io::publish(cluster, port, host.c_str(), true);
  if (!got) {
    return make_failure(errc::io, "cannot listen for cluster nodes on " + host + ":" + std::to_string(port) + ": " +
                                    sys.render(got.error()));
  }
  return *got;
}

namespace {

using client_actor = caf::typed_actor<caf::reacts_to<caf::connect_atom>>;

constexpr auto join_timeout = std::chrono::seconds{5};
constexpr auto backoff_min = std::chrono::milliseconds{250};
constexpr auto backoff_max = std::chrono::milliseconds{5000};

struct client_config {
  caf::io::middleman_actor mm; ///< plain or TLS, as configured
  bool tls = false;
  std::string host;
  uint16_t port = 0;
  messages::node_hello hello;
  actors::worker_actor host_actor;
  actors::relay_actor relay;
  std::function<void(const std::string&)> log;
};

struct client_state {
  client_config cfg;
  actors::cluster_actor serving;
  std::string serving_name;
  std::chrono::milliseconds backoff = backoff_min;
  std::string last_error;
  bool joined_before = false;
  static inline const char* name = "cluster_client";
};

using client_ptr = client_actor::stateful_pointer<client_state>;

void say(client_ptr self, const std::string& line) {
  if (self->state.cfg.log) self->state.cfg.log(line);
}

std::string where(client_ptr self) {
  return self->state.cfg.host + ":" + std::to_string(self->state.cfg.port);
}

// Why a connection attempt failed, in words a person can act on.
std::string explain(client_ptr self, const caf::error& err) {
  auto text = self->system().render(err);
  if (err == caf::sec::cannot_connect_to_node) {
    return "nothing answers there (the serving node is down, not started yet, or unreachable): " + text;
  }
  if (err == caf::sec::disconnect_during_handshake || err == caf::sec::runtime_error) {
    if (self->state.cfg.tls) {
      return "refused: the TLS handshake failed (the serving node does not use TLS, or our certificate is not "
             "signed by its CA): " +
             text;
    }
    return "refused: the handshake failed (the serving node may require TLS): " + text;
  }
  return text;
}

void retry(client_ptr self, const std::string& why) {
  auto& st = self->state;
  if (why != st.last_error) {
    say(self, "cannot join " + where(self) + ": " + why + "; retrying every " + std::to_string(backoff_max.count()) +
                " ms at most");
    st.last_error = why;
  }
  self->delayed_send(self, st.backoff, caf::connect_atom::value);
  st.backoff = std::min(backoff_max, st.backoff * 2);
}

void join(client_ptr self) {
  auto& st = self->state;
  self->request(st.cfg.mm, join_timeout, caf::connect_atom::value, st.cfg.host, st.cfg.port)
    .then(
      [self](caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>&) {
        if (!ptr) {
          retry(self, "nothing is published there (is it grove serve --cluster-port?)");
          return;
        }
        auto cluster = caf::actor_cast<actors::cluster_actor>(ptr);
        auto& st = self->state;
        self->request(cluster, join_timeout, st.cfg.hello, caf::actor_cast<caf::actor>(st.cfg.host_actor))
          .then(
            [self, cluster](std::string& serving, caf::actor& telemetry) {
              auto& st = self->state;
              st.serving = cluster;
              st.serving_name = serving;
              self->monitor(cluster);
              self->send(st.cfg.relay, actors::relay_target_atom::value, telemetry);
              say(self, std::string{st.joined_before ? "rejoined " : "joined "} + where(self) + " (serving node " +
                          serving + ") as " + st.cfg.hello.name + ", capacity " +
                          std::to_string(st.cfg.hello.capacity));
              st.joined_before = true;
              st.backoff = backoff_min;
              st.last_error.clear();
            },
            [self](caf::error& err) { retry(self, "the serving node refused us: " + self->system().render(err)); });
      },
      [self](caf::error& err) { retry(self, explain(self, err)); });
}

} // namespace

struct worker_node::impl {
  impl(caf::actor_system& s, worker_options o) : sys(s), opts(std::move(o)) {}
  caf::actor_system& sys;
  worker_options opts;
  std::map<std::string, std::shared_ptr<http::client>> http;
  actors::telemetry_actor telemetry;
  actors::router_actor router;
  actors::worker_actor host;
  actors::relay_actor relay;
  client_actor client;
  bool down = false;
};

messages::result<std::unique_ptr<worker_node>> worker_node::make(caf::actor_system& sys, worker_options opts) {
  if (opts.name.empty()) return make_failure(errc::invalid_config, "a worker node needs a name");
  if (!opts.provider) {
    if (auto ok = check_providers(opts.settings); !ok) return ok.error();
  }
  return std::make_unique<worker_node>(sys, std::move(opts));
}

worker_node::worker_node(caf::actor_system& sys, worker_options opts)
  : impl_{std::make_unique<impl>(sys, std::move(opts))} {
  auto& m = *impl_;
  m.telemetry = actors::spawn_telemetry(sys, {});
  m.relay = actors::spawn_relay(sys, m.opts.name);
  caf::anon_send(m.telemetry, actors::subscribe_atom::value, caf::actor_cast<actors::event_sink_actor>(m.relay));
  m.router = actors::spawn_llm_router(sys, router_setup(m.opts.settings, m.opts.provider, m.telemetry, m.http));
  m.host = actors::spawn_worker_host(
    sys, actors::generator_config{m.router, {}, std::chrono::milliseconds{m.opts.settings.generator_timeout_ms}});
  client_config cc;
  cc.tls = m.opts.settings.cluster.tls();
  cc.mm = cc.tls ? sys.openssl_manager().actor_handle() : sys.middleman().actor_handle();
  cc.host = m.opts.join_host;
  cc.port = m.opts.join_port;
  cc.hello.name = m.opts.name;
  cc.hello.address = m.opts.address;
  cc.hello.capacity = m.opts.settings.cluster.capacity;
  if (m.opts.provider) {
    cc.hello.providers = {"override"};
  } else {
    for (auto& [name, _] : m.opts.settings.models.providers) cc.hello.providers.push_back(name);
  }
  cc.host_actor = m.host;
  cc.relay = m.relay;
  cc.log = m.opts.log;
  m.client = sys.spawn([cc](client_ptr self) -> client_actor::behavior_type {
    self->state.cfg = cc;
    self->set_down_handler([self](caf::down_msg& msg) {
      auto& st = self->state;
      if (!st.serving || msg.source != st.serving.address()) return;
      st.serving = nullptr;
      self->send(st.cfg.relay, actors::relay_target_atom::value, caf::actor{});
      say(self, "lost the serving node " + st.serving_name + " at " + where(self) + " (" +
                  self->system().render(msg.reason) + "); reconnecting");
      st.last_error.clear();
      self->delayed_send(self, st.backoff, caf::connect_atom::value);
    });
    self->send(self, caf::connect_atom::value);
    return {
      [self](caf::connect_atom) {
        if (!self->state.serving) join(self);
      },
    };
  });
}

actors::telemetry_actor worker_node::telemetry() const {
  return impl_->telemetry;
}

worker_node::~worker_node() {
  shutdown();
}

void worker_node::shutdown() {
  auto& m = *impl_;
  if (m.down) return;
  m.down = true;
  for (auto a : {caf::actor_cast<caf::actor>(m.client), caf::actor_cast<caf::actor>(m.host),
                 caf::actor_cast<caf::actor>(m.router), caf::actor_cast<caf::actor>(m.relay),
                 caf::actor_cast<caf::actor>(m.telemetry)}) {
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }
}

} // namespace grove::runtime
