#include <csignal>
#include <cstdio>

#include <thread>

#include <pthread.h>

#include <caf/all.hpp>

#include "actors/job_registry.hpp"
#include "runtime/cli.hpp"
#include "runtime/gateway/backend.hpp"
#include "runtime/gateway/server.hpp"
#include "runtime/git/git.hpp"
#include "runtime/node.hpp"
#include "runtime/workspace_lock.hpp"

namespace grove::runtime::cli {

namespace {

// Waits for the registry to have no job in flight (after stopping intake),
// cancelling what is still running when `cancel`; false on timeout.
bool drain(caf::actor_system& sys, const actors::job_registry_actor& registry, bool cancel, std::chrono::seconds timeout) {
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
  auto repo = git::repository::open_or_init(a.common.repo);
  if (!repo) return usage_error(repo.error().message);
  auto root = repo->workdir();
  auto lock = workspace_lock::acquire(root);
  if (!lock) return usage_error(lock.error().message);
  auto stale = git::remove_stale(*repo);
  if (!stale) return usage_error("cleaning stale worktrees: " + stale.error().message);

  caf::actor_system_config cfg;
  configure(cfg, *settings);
  caf::actor_system sys{cfg};
  node_options opts;
  opts.repo = root;
  opts.settings = *settings;
  auto made = node::make(sys, opts);
  if (!made) return usage_error(made.error().message);
  auto& n = **made;
  auto registry = n.registry(a.max_jobs);

  gateway::backend_deps deps;
  deps.registry = registry;
  deps.telemetry = n.telemetry();
  deps.repo = root;
  deps.max_jobs_per_connection = a.jobs_per_connection;
  gateway::server_options so;
  so.host = a.host;
  so.port = a.port;
  so.token = token_from(a.token);
  so.max_connections = a.max_connections;
  so.max_frame_bytes = a.max_frame_bytes;
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
  std::fprintf(stderr, "grove: stopped cleanly\n");
  return exit_ok;
}

} // namespace grove::runtime::cli
