// grove node: a worker node. It joins a serving node (grove serve
// --cluster-port) over CAF's middleman and runs generators for it with its
// own providers, until SIGINT or SIGTERM.

#include <csignal>
#include <cstdio>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "app/cli.hpp"
#include "app/node_host.hpp"
#include "messages/clock.hpp"
#include "messages/secrets.hpp"
#include "runtime/gateway/backend.hpp"
#include "runtime/gateway/server.hpp"

namespace grove::app {

namespace {

// HOST:PORT (or [v6]:PORT) split; false when it is not one.
bool split_endpoint(const std::string& text, std::string& host, uint16_t& port) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  auto digits = text.substr(colon + 1);
  if (digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos) return false;
  auto n = std::stoul(digits);
  if (n == 0 || n > 65535) return false;
  port = static_cast<uint16_t>(n);
  return true;
}

void log_line(const std::string& line) {
  std::fprintf(stderr, "grove node: %s\n", line.c_str());
  std::fflush(stderr);
}

} // namespace

int node(node_args& a) {
  auto signals = block_stop_signals();

  runtime::worker_options wo;
  if (!split_endpoint(a.join, wo.join_host, wo.join_port)) {
    return usage_error("--join takes HOST:PORT (the serving node's --cluster-port), got \"" + a.join + "\"");
  }
  common_args common;
  common.config_file = a.config_file;
  common.provider = a.provider;
  common.threads = a.threads;
  auto settings = load(common);
  if (!settings) return usage_error(settings.error().message);
  if (a.capacity != 0) settings->cluster.capacity = a.capacity;
  if (auto ok = apply_cluster_flags(*settings, a.cl); !ok) return usage_error(ok.error().message);

  node_host host{{}, *settings, true};
  if (!host.cluster_status) return usage_error(host.cluster_status.error().message);
  wo.name = a.cl.name.empty() ? host_name() : a.cl.name;
  wo.address = a.host.empty() ? host_name() : a.host;
  wo.settings = *settings;
  wo.log = log_line;
  auto made = runtime::worker_node::make(host.sys, wo);
  if (!made) return usage_error(made.error().message);
  std::unique_ptr<gateway::server> http;
  if (a.has_port) {
    gateway::server_options so;
    so.host = a.host.empty() ? "127.0.0.1" : a.host;
    so.port = a.port;
    so.token = token_from("");
    messages::register_secret(so.token);
    http = std::make_unique<gateway::server>(so, gateway::make_worker_backend(host.sys, (*made)->telemetry()));
    if (auto err = http->start(); !err.empty()) {
      (*made)->shutdown();
      return usage_error(err);
    }
    log_line("metrics on http://" + so.host + ":" + std::to_string(http->port()) + "/metrics");
  }
  log_line("worker " + wo.name + " (capacity " + std::to_string(settings->cluster.capacity) + ", " +
           (settings->cluster.tls() ? "TLS" : "no TLS") + ") joining " + a.join);

  int sig = 0;
  sigwait(&signals, &sig);
  log_line(std::string{sig == SIGINT ? "SIGINT" : "SIGTERM"} +
           ": leaving the cluster; the serving node places unfinished generations elsewhere");
  if (http) http->stop();
  (*made)->shutdown();
  return exit_ok;
}

} // namespace grove::app
