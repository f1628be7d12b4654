#pragma once

// The grove command line: one function per subcommand. Exit codes: 0 every
// component landed, 1 some were dropped or the job failed, 2 usage or
// configuration errors.

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "infra/journal/journal.hpp"
#include "infra/git/workspace_lock.hpp"

#include "config/settings.hpp"
#include "messages/types.hpp"

namespace grove::app {

inline constexpr int exit_ok = 0;
inline constexpr int exit_partial = 1;
inline constexpr int exit_usage = 2;

/// Options shared by build and serve.
struct common_args {
  std::string repo = "workspace";
  std::string config_file;
  std::string provider;
  uint32_t max_attempts = 0;
  uint32_t parallel = 0;
  uint32_t threads = 0;
  std::string review; ///< empty: the config's (default blocking)
  double max_cost = -1; ///< --max-cost: each job's model spend cap in US dollars; <0: the config's
};

/// Cluster flags shared by serve and node (over the config's "cluster" section).
struct cluster_args {
  std::string name; ///< this node's name in the cluster
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
};

struct build_args {
  common_args common;
  std::string request;
  std::string plan_file;
  std::string resume; ///< a job id to continue
  bool fresh = false; ///< regenerate every planned component, whatever the library holds
  bool json = false;
  bool quiet = false;
};

struct serve_args {
  common_args common;
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string token; ///< also from GROVE_TOKEN
  uint32_t max_jobs = 16;
  uint32_t max_queued = 1024;
  uint32_t max_connections = 256;
  uint32_t max_frame_bytes = 64 * 1024;
  uint32_t jobs_per_connection = 8;
  uint32_t max_queued_bytes = 4 * 1024 * 1024;
  uint32_t drain_seconds = 30;
  uint16_t cluster_port = 0; ///< set: accept worker nodes (CAF middleman) on it
  bool cluster = false;      ///< --cluster-port given (0 picks a free port)
  std::string cluster_host = "127.0.0.1";
  int64_t local_capacity = -1; ///< generations this node runs itself; -1: the config's
  double budget_usd_per_day = -1; ///< --budget-usd-per-day; <0: the config's
  double rate_limit = 60;         ///< job submissions a minute per connection (0: none)
  double rate_limit_ip = 300;     ///< job submissions a minute per client address (0: none)
  cluster_args cl;
};

/// grove node: a worker that joins a serving node.
struct node_args {
  std::string join;  ///< HOST:PORT of grove serve --cluster-port
  std::string host;  ///< this machine's address, shown to people and bound by --port; default: the host name
  uint16_t port = 0; ///< set: serve /healthz and /metrics on host:port
  bool has_port = false;
  std::string config_file;
  std::string provider;
  uint32_t capacity = 0; ///< 0: the config's (default 8)
  uint32_t threads = 0;
  cluster_args cl;
};

struct submit_args {
  std::string request;
  std::string plan_file;
  std::string url = "ws://127.0.0.1:8080";
  std::string token;  ///< also from GROVE_TOKEN
  std::string cacert; ///< wss://: the CA (PEM) the server's certificate must be signed by
  bool fresh = false; ///< regenerate every planned component
  bool json = false;
  bool quiet = false;
};

struct status_args {
  std::string repo = "workspace";
  bool json = false;
};

int build(build_args& a);
int status(status_args& a);
/// `grove lessons [--repo DIR] [--json]`: the memory of past mistakes.
int lessons(status_args& a);
int serve(serve_args& a);
int submit(submit_args& a);
int node(node_args& a);

/// Applies the cluster flags over `s.cluster`; fails when TLS is half configured.
messages::status apply_cluster_flags(config::settings& s, const cluster_args& a);

/// Blocks SIGINT and SIGTERM in this thread and every thread it starts
/// later; the caller takes them with sigwait on the returned set.
sigset_t block_stop_signals();

/// This machine's host name ("localhost" if unknown).
std::string host_name();

/// Opens the workspace for a run: repository, lock, repair of what a killed
/// run left (locks, half-written output/, stale worktrees and branches).
struct workspace {
  std::filesystem::path root;
  std::optional<git::workspace_lock> lock;
};
messages::result<workspace> open_workspace(const std::string& repo, bool quiet);

/// After the node stopped: puts output/ back in step with main and removes
/// any worktree or branch left (a full disk can leave either); warns on failure.
void settle_workspace(const workspace& ws, bool quiet);

/// A job a killed run left unfinished, ready to run again under its own id.
struct resumable {
  std::string request;       ///< as first asked
  messages::job_start start; ///< its journaled plan when it has one
};

/// The one resume path of `build` and `serve`: every unfinished journaled
/// job, oldest first, each announced on stderr unless `quiet`. Components
/// already on main come from the cache; each job composes once at its end.
messages::result<std::vector<resumable>> resumable_jobs(journal::journal& jr, bool quiet);

/// Prints `grove: <msg>` on stderr; returns exit_usage.
int usage_error(const std::string& msg);

/// Settings from defaults, the config file and the flags.
messages::result<config::settings> load(const common_args& a);

/// The job to run: a ready plan from a file, or a request.
messages::result<messages::job_start> job_from(const std::string& request, const std::string& plan_file);

/// The end-of-job summary on stderr.
void print_summary(const messages::job_report& r);

/// The exit code for a report.
int exit_code(const messages::job_report& r);

/// The token from the flag, else GROVE_TOKEN.
std::string token_from(const std::string& flag);

} // namespace grove::app
