#include <csignal>
#include <cstdio>

#include <memory>
#include <mutex>
#include <thread>

#include <signal.h>
#include <unistd.h>

#include <pthread.h>

#include <caf/all.hpp>

#include "actors/job_registry.hpp"
#include "logic/budget.hpp"
#include "messages/clock.hpp"
#include "messages/secrets.hpp"
#include "app/cli.hpp"
#include "app/node_host.hpp"
#include "runtime/gateway/backend.hpp"
#include "runtime/gateway/server.hpp"
#include <nlohmann/json.hpp>

#include "messages/codec.hpp"
#include "infra/journal/journal.hpp"
#include "runtime/node.hpp"
#include "infra/git/workspace_lock.hpp"

namespace grove::app {

namespace {

// Waits for the registry to have no job in flight (after stopping intake),
// cancelling what is still running when `cancel`; false on timeout.
bool drain(caf::actor_system& sys, const actors::job_registry_actor& registry, bool cancel,
           std::chrono::seconds timeout) {
  caf::scoped_actor self{sys};
  bool done = false;
  self->request(registry, timeout, actors::drain_atom::value, cancel)
    .receive([&](bool) { done = true; }, [&](caf::error&) { done = false; });
  return done;
}

// Finished jobs stay readable after a restart; the registry learns them from the journal.
void restore_finished(const actors::job_registry_actor& registry, const std::vector<journal::job_row>& recent) {
  for (auto& j : recent) {
    if (!journal::is_final(j.state)) continue;
    messages::job_status js;
    js.job = j.id;
    js.request = j.request;
    js.state = messages::job_state_from_string(j.state).value_or(messages::job_state::failed);
    js.started_ms = j.created_ms;
    js.updated_ms = j.updated_ms;
    js.finished = true;
    js.report = messages::report_from_json(nlohmann::json::parse(j.report_json, nullptr, false));
    caf::anon_send(registry, std::move(js));
  }
}

// Unfinished jobs continue under their ids, before any client connects.
void resume_unfinished(caf::actor_system& sys, const actors::job_registry_actor& registry,
                       const std::vector<resumable>& unfinished) {
  for (auto& u : unfinished) {
    caf::scoped_actor self{sys};
    self->request(registry, std::chrono::seconds{30}, messages::submit_job{u.start}, actors::job_sink_actor{})
      .receive([](const std::string&) {},
               [&](caf::error& err) {
                 std::fprintf(stderr, "grove: cannot resume %s: %s\n", u.start.job.c_str(), sys.render(err).c_str());
               });
  }
}

gateway::server_options server_options_from(const serve_args& a) {
  gateway::server_options so;
  so.host = a.host;
  so.port = a.port;
  so.token = token_from(a.token);
  so.max_connections = a.max_connections;
  so.max_frame_bytes = a.max_frame_bytes;
  so.max_queued_bytes = a.max_queued_bytes;
  so.tls_cert = a.cl.tls_cert;
  so.tls_key = a.cl.tls_key;
  return so;
}

// Stops intake, lets jobs in flight finish (or cancels them), then closes connections and the node.
void stop_serving(caf::actor_system& sys, gateway::server& server, runtime::node& n,
                  const actors::job_registry_actor& registry, std::chrono::seconds drain_for) {
  server.stop_accepting();
  if (!drain(sys, registry, false, drain_for)) {
    std::fprintf(stderr, "grove: cancelling the jobs still running\n");
    drain(sys, registry, true, std::chrono::seconds{120});
  }
  // Jobs are over; their last frames travel registry -> session actor -> socket.
  // Give them a moment, then close every connection after its queued frames.
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
  server.stop();
  n.shutdown();
}

// Why the node gave up, set from an actor; the main thread reads it after SIGTERM.
struct give_up_note {
  std::mutex mtx;
  std::string why;
};

} // namespace

int serve(serve_args& a) {
  auto signals = block_stop_signals();

  auto settings = load(a.common);
  if (!settings) return usage_error(settings.error().message);
  auto ws = open_workspace(a.common.repo, false);
  if (!ws) return usage_error(ws.error().message);
  auto jr = journal::journal::open(ws->root);
  if (!jr) return usage_error("cannot open the job journal: " + jr.error().message);
  auto unfinished = resumable_jobs(**jr, false);
  auto recent = (*jr)->recent(200);
  if (!unfinished || !recent) return usage_error("reading the job journal failed");
  jr->reset();

  if (a.local_capacity >= 0) settings->cluster.local_capacity = static_cast<uint32_t>(a.local_capacity);
  if (a.budget_usd_per_day >= 0) settings->budget_usd_per_day = a.budget_usd_per_day;
  // --tls-cert and --tls-key serve HTTPS and WSS; with --tls-ca (or a cluster section) they are
  // the cluster port's too, which needs all three.
  if (a.cluster || !a.cl.tls_ca.empty()) {
    if (auto ok = apply_cluster_flags(*settings, a.cl); !ok) return usage_error(ok.error().message);
  }
  if (a.cl.tls_cert.empty() != a.cl.tls_key.empty()) {
    return usage_error("HTTPS needs --tls-cert and --tls-key together");
  }
  node_host host{ws->root, *settings, a.cluster};
  if (!host.cluster_status) return usage_error(host.cluster_status.error().message);
  auto& sys = host.sys;
  auto& opts = host.opts;
  if (a.cluster) opts.node_name = a.cl.name.empty() ? "serve@" + host_name() : a.cl.name;
  // A node service failed past its restart limit: stop as on SIGTERM, and say why.
  auto gave_up = std::make_shared<give_up_note>();
  opts.on_give_up = [gave_up](const std::string& why) {
    {
      std::lock_guard<std::mutex> guard{gave_up->mtx};
      gave_up->why = why;
    }
    ::kill(::getpid(), SIGTERM);
  };
  auto made = runtime::node::make(sys, opts);
  if (!made) return usage_error(made.error().message);
  auto& n = **made;
  if (auto ledger = n.ledger()) {
    auto now = messages::now_ms();
    std::fprintf(stderr, "grove: budget: %s of model spend per %s, %s spent within it (.grove/spend.db)\n",
                 logic::budget::dollars(ledger->limit_usd()).c_str(),
                 logic::budget::window_text(ledger->window_ms()).c_str(),
                 logic::budget::dollars(ledger->spent(now)).c_str());
  }
  // Before the registry: every job, resumed ones included, places its generators through the cluster.
  if (a.cluster) {
    auto cluster = n.start_cluster(host_name(), [](const std::string& line) {
      std::fprintf(stderr, "grove: %s\n", line.c_str());
      std::fflush(stderr);
    });
    auto tls = settings->cluster.tls();
    auto port = runtime::publish_cluster(sys, cluster, a.cluster_host, a.cluster_port, tls);
    if (!port) {
      n.shutdown();
      return usage_error(port.error().message);
    }
    std::fprintf(stderr,
                 "grove: cluster: node %s accepting worker nodes on %s:%u (%s), running %u generations itself\n",
                 opts.node_name.c_str(), a.cluster_host.c_str(), *port,
                 tls ? "TLS, certificates of the configured CA" : "no TLS", settings->cluster.local_capacity);
    if (!tls && a.cluster_host != "127.0.0.1" && a.cluster_host != "::1" && a.cluster_host != "localhost") {
      std::fprintf(stderr,
                   "grove: warning: the cluster port listens on %s without TLS: anyone who reaches it can join and "
                   "receive prompts; set --tls-cert, --tls-key and --tls-ca (scripts/make-test-ca.sh for tests)\n",
                   a.cluster_host.c_str());
    }
    std::fflush(stderr);
  }
  auto registry = n.registry(a.max_jobs, a.max_queued);
  restore_finished(registry, *recent);
  resume_unfinished(sys, registry, *unfinished);

  gateway::backend_deps deps;
  deps.registry = registry;
  deps.telemetry = n.telemetry();
  deps.integrator = caf::actor_cast<caf::weak_actor_ptr>(n.integrator());
  deps.max_jobs_per_connection = a.jobs_per_connection;
  deps.cluster = caf::actor_cast<caf::actor>(n.cluster());
  deps.ledger = n.ledger();
  deps.submits_per_connection = logic::rate_limit::per_minute(a.rate_limit);
  deps.submits_per_address = logic::rate_limit::per_minute(a.rate_limit_ip);
  auto so = server_options_from(a);
  // The token is a secret like an API key: never echoed in any spelling.
  messages::register_secret(so.token);
  gateway::server server{so, gateway::make_backend(sys, deps)};
  if (auto err = server.start(); !err.empty()) {
    n.shutdown();
    return usage_error(err);
  }
  bool loopback = a.host == "127.0.0.1" || a.host == "::1" || a.host == "localhost";
  if (!loopback && !server.tls() && so.token.empty()) {
    std::fprintf(stderr,
                 "grove: warning: listening on %s without TLS and without a token: anyone who reaches the port can "
                 "run jobs and read every page; set GROVE_TOKEN and --tls-cert/--tls-key\n",
                 a.host.c_str());
  } else if (!loopback && so.token.empty()) {
    std::fprintf(stderr, "grove: warning: listening on %s without a token; set GROVE_TOKEN\n", a.host.c_str());
  } else if (!loopback && !server.tls()) {
    std::fprintf(stderr,
                 "grove: warning: listening on %s without TLS: the token and every page cross the network in the "
                 "clear; set --tls-cert and --tls-key\n",
                 a.host.c_str());
  }
  const char* http = server.tls() ? "https" : "http";
  const char* wsx = server.tls() ? "wss" : "ws";
  std::fprintf(stderr, "grove: serving %s on %s://%s:%u (dashboard), %s://%s:%u/ws\n", ws->root.c_str(), http,
               a.host.c_str(), server.port(), wsx, a.host.c_str(), server.port());
  std::fflush(stderr);

  int sig = 0;
  sigwait(&signals, &sig);
  std::string why;
  {
    std::lock_guard<std::mutex> guard{gave_up->mtx};
    why = gave_up->why;
  }
  if (!why.empty()) {
    std::fprintf(stderr, "grove: %s\n", why.c_str());
  } else {
    std::fprintf(stderr, "grove: %s: no new connections; finishing jobs in flight (up to %u s)\n",
                 sig == SIGINT ? "SIGINT" : "SIGTERM", a.drain_seconds);
  }
  stop_serving(sys, server, n, registry, std::chrono::seconds{why.empty() ? a.drain_seconds : 5u});
  settle_workspace(*ws, false);
  if (!why.empty()) {
    std::fprintf(stderr, "grove: stopped; run grove serve again to resume the unfinished jobs\n");
    return exit_partial;
  }
  std::fprintf(stderr, "grove: stopped cleanly\n");
  return exit_ok;
}

} // namespace grove::app
