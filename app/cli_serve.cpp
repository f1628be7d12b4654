#include <csignal>
#include <cstdio>

#include <thread>

#include <pthread.h>

#include <caf/all.hpp>

#include "actors/job_registry.hpp"
#include "messages/secrets.hpp"
#include "app/cli.hpp"
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

} // namespace

int serve(serve_args& a) {
  // Block the signals in every thread we start; this thread takes them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto settings = load(a.common);
  if (!settings) return usage_error(settings.error().message);
  auto ws = open_workspace(a.common.repo, false);
  if (!ws) return usage_error(ws.error().message);
  auto root = ws->root;
  auto jr = journal::journal::open(root);
  if (!jr) return usage_error("cannot open the job journal: " + jr.error().message);
  auto unfinished = resumable_jobs(**jr, false);
  auto recent = (*jr)->recent(200);
  if (!unfinished || !recent) return usage_error("reading the job journal failed");
  jr->reset();

  caf::actor_system_config cfg;
  runtime::configure(cfg, *settings);
  caf::actor_system sys{cfg};
  runtime::node_options opts;
  opts.repo = root;
  opts.settings = *settings;
  auto made = runtime::node::make(sys, opts);
  if (!made) return usage_error(made.error().message);
  auto& n = **made;
  auto registry = n.registry(a.max_jobs);
  // Jobs that finished before a restart stay readable; unfinished ones continue under their ids.
  for (auto& j : *recent) {
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
  for (auto& u : *unfinished) {
    caf::scoped_actor self{sys};
    self->request(registry, std::chrono::seconds{30}, messages::submit_job{u.start}, actors::job_sink_actor{})
      .receive([](const std::string&) {},
               [&](caf::error& err) {
                 std::fprintf(stderr, "grove: cannot resume %s: %s\n", u.start.job.c_str(), sys.render(err).c_str());
               });
  }

  gateway::backend_deps deps;
  deps.registry = registry;
  deps.telemetry = n.telemetry();
  deps.integrator = caf::actor_cast<caf::weak_actor_ptr>(n.integrator());
  deps.max_jobs_per_connection = a.jobs_per_connection;
  gateway::server_options so;
  so.host = a.host;
  so.port = a.port;
  so.token = token_from(a.token);
  so.max_connections = a.max_connections;
  so.max_frame_bytes = a.max_frame_bytes;
  so.max_queued_bytes = a.max_queued_bytes;
  // The token is a secret like an API key: never echoed in any spelling.
  messages::register_secret(so.token);
  gateway::server server{so, gateway::make_backend(sys, deps)};
  if (auto err = server.start(); !err.empty()) {
    n.shutdown();
    return usage_error(err);
  }
  if (a.host != "127.0.0.1" && a.host != "::1" && a.host != "localhost" && so.token.empty()) {
    std::fprintf(stderr, "grove: warning: listening on %s without a token; set GROVE_TOKEN\n", a.host.c_str());
  }
  std::fprintf(stderr, "grove: serving %s on http://%s:%u (dashboard), ws://%s:%u/ws\n", root.c_str(), a.host.c_str(),
               server.port(), a.host.c_str(), server.port());
  std::fflush(stderr);

  int sig = 0;
  sigwait(&signals, &sig);
  std::fprintf(stderr, "grove: %s: no new connections; finishing jobs in flight (up to %u s)\n",
               sig == SIGINT ? "SIGINT" : "SIGTERM", a.drain_seconds);
  server.stop_accepting();
  if (!drain(sys, registry, false, std::chrono::seconds{a.drain_seconds})) {
    std::fprintf(stderr, "grove: cancelling the jobs still running\n");
    drain(sys, registry, true, std::chrono::seconds{120});
  }
  // Jobs are over; their last frames travel registry -> session actor -> socket.
  // Give them a moment, then close every connection after its queued frames.
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
  server.stop();
  n.shutdown();
  settle_workspace(*ws, false);
  std::fprintf(stderr, "grove: stopped cleanly\n");
  return exit_ok;
}

} // namespace grove::app
