// grove: the command-line entry point. Exit codes: 0 every component landed,
// 1 some were dropped or the job failed, 2 usage or configuration errors.

#include <CLI/CLI.hpp>

#include "app/cli.hpp"

namespace {

namespace cli = grove::app;

void add_common(CLI::App* cmd, cli::common_args& c) {
  cmd->add_option("--repo", c.repo, "Workspace repository (created if missing)")->capture_default_str();
  cmd->add_option("--config", c.config_file,
                  "Config file (JSON; see config/grove.example.json, config/models.example.json)");
  cmd->add_option(
    "--provider", c.provider,
    "Route every role to one provider: NAME[:MODEL], NAME a configured provider or builtin, openai, ollama, gemini, anthropic");
  cmd->add_option("--max-attempts", c.max_attempts, "QA attempts per component (default 3)")->check(CLI::Range(1, 20));
  cmd->add_option("--parallel", c.parallel, "Components in flight per job (default 16)")->check(CLI::Range(1, 10000));
  cmd->add_option("--threads", c.threads, "Actor scheduler threads (default: one per core)")->check(CLI::Range(1, 256));
  cmd->add_option("--review", c.review,
                  "The reviewer in the QA gate: off, advisory (findings recorded) or blocking (default: an error "
                  "finding is a rejection, retried with its advice)");
  cmd
    ->add_option("--max-cost", c.max_cost,
                 "A job's model spend cap in US dollars at the providers' prices (0: none; default: the config's "
                 "max_cost_usd); the components it leaves ungenerated are dropped with a budget error")
    ->check(CLI::Range(0.0, 1e9));
}

void add_cluster(CLI::App* cmd, cli::cluster_args& c, bool serving) {
  cmd->add_option("--name", c.name, "This node's name in the cluster (unique)");
  cmd->add_option("--tls-cert", c.tls_cert,
                  serving ? "Serve HTTPS and WSS with this certificate chain (PEM; with --tls-key); with --tls-ca, "
                            "TLS between nodes too"
                          : "TLS between nodes: this node's certificate (PEM; with --tls-key, --tls-ca)");
  cmd->add_option("--tls-key", c.tls_key,
                  serving ? "The private key of --tls-cert (PEM)" : "TLS between nodes: this node's private key (PEM)");
  cmd->add_option("--tls-ca", c.tls_ca, "TLS between nodes: the CA every node's certificate must be signed by");
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"grove: AI agents build a web page in parallel, each component in its own git worktree"};
  app.require_subcommand(1);

  cli::build_args b;
  auto* build = app.add_subcommand("build", "Build a page from a request (or a ready plan) in a workspace repository");
  build->add_option("request", b.request, "What to build, e.g. \"a dashboard page and a login form\"");
  build->add_option("--plan", b.plan_file, "Use a ready plan (JSON, plan.schema.json) and skip the customer agent");
  build->add_option("--resume", b.resume, "Continue a job a killed run left unfinished (see grove status)");
  build->add_flag("--fresh", b.fresh,
                  "Regenerate every planned component as a new version, whatever the library holds (no cache hit)");
  add_common(build, b.common);
  build->add_flag("--json", b.json, "Print the final report as JSON on stdout");
  build->add_flag("-q,--quiet", b.quiet, "No progress on stderr");

  cli::serve_args s;
  auto* serve = app.add_subcommand("serve", "Run a node: WebSocket builds, live dashboard, /metrics, on one port");
  serve->add_option("--host", s.host, "Address to bind (loopback unless told otherwise)")->capture_default_str();
  serve->add_option("--port", s.port, "Port (0: any free port, printed at start)")->capture_default_str();
  serve->add_option("--token", s.token,
                    "Require this bearer token (else GROVE_TOKEN; prefer the variable: flags show in ps)");
  serve->add_option("--max-jobs", s.max_jobs, "Jobs in flight; beyond it jobs wait in a fair queue (--max-queued)")
    ->capture_default_str()
    ->check(CLI::Range(1, 100000));
  serve->add_option("--max-queued", s.max_queued, "Jobs waiting for a place (journaled); beyond it clients get busy")
    ->capture_default_str()
    ->check(CLI::Range(0, 1000000));
  serve->add_option("--max-connections", s.max_connections, "WebSocket connections")
    ->capture_default_str()
    ->check(CLI::Range(1, 100000));
  serve->add_option("--max-frame-bytes", s.max_frame_bytes, "Largest accepted frame")
    ->capture_default_str()
    ->check(CLI::Range(256, 16 * 1024 * 1024));
  serve->add_option("--jobs-per-connection", s.jobs_per_connection, "Jobs one connection may run at once")
    ->capture_default_str()
    ->check(CLI::Range(1, 10000));
  serve
    ->add_option("--max-queued-bytes", s.max_queued_bytes,
                 "Unsent bytes per WebSocket client before it is closed as not reading (1008)")
    ->capture_default_str()
    ->check(CLI::Range(64 * 1024, 1024 * 1024 * 1024));
  serve
    ->add_option("--rate-limit", s.rate_limit,
                 "Job submissions a minute per connection, in bursts of a quarter of that (0: no limit); past it, "
                 "rate_limited")
    ->capture_default_str()
    ->check(CLI::Range(0.0, 1e6));
  serve->add_option("--rate-limit-ip", s.rate_limit_ip, "Job submissions a minute per client address (0: no limit)")
    ->capture_default_str()
    ->check(CLI::Range(0.0, 1e6));
  serve->add_option("--drain-seconds", s.drain_seconds, "On SIGINT/SIGTERM, wait this long for jobs, then cancel them")
    ->capture_default_str();
  add_common(serve, s.common);
  serve
    ->add_option("--budget-usd-per-day", s.budget_usd_per_day,
                 "Model spend allowed within any rolling day (config budget_window_ms), journaled in "
                 ".grove/spend.db; past it, jobs that need a model are refused with budget (0: none)")
    ->check(CLI::Range(0.0, 1e9));
  serve
    ->add_option("--cluster-port", s.cluster_port,
                 "Accept worker nodes (grove node --join) on this port (0: any free port, printed at start)")
    ->check(CLI::Range(0, 65535));
  serve->add_option("--cluster-host", s.cluster_host, "Address the cluster port binds")->capture_default_str();
  serve->add_option("--local-capacity", s.local_capacity, "Generations this node runs itself in a cluster (default 8)")
    ->check(CLI::Range(0, 100000));
  add_cluster(serve, s.cl, true);

  cli::node_args nd;
  auto* node = app.add_subcommand("node", "Run a worker node: join a grove serve and run generators for it");
  node->add_option("--join", nd.join, "HOST:PORT of the serving node's --cluster-port")->required();
  node->add_option("--host", nd.host,
                   "This machine's address: shown by the dashboard, and bound by --port (default: its host name; "
                   "--port then binds 127.0.0.1)");
  node->add_option("--port", nd.port, "Serve /healthz and /metrics (this node's model calls) on this port (0: any)")
    ->check(CLI::Range(0, 65535));
  node->add_option("--config", nd.config_file, "Config file: this node's providers, routes and cluster settings");
  node->add_option("--provider", nd.provider, "Route every role to one provider: NAME[:MODEL] (see grove build)");
  node->add_option("--capacity", nd.capacity, "Concurrent generations this node takes (default 8)")
    ->check(CLI::Range(1, 100000));
  node->add_option("--threads", nd.threads, "Actor scheduler threads (default: one per core)")
    ->check(CLI::Range(1, 256));
  add_cluster(node, nd.cl, false);

  cli::status_args st;
  auto* status = app.add_subcommand("status", "List the jobs of a workspace and their state, from its journal");
  status->add_option("--repo", st.repo, "Workspace repository")->capture_default_str();
  status->add_flag("--json", st.json, "Print the jobs as JSON");
  cli::status_args ls;
  auto* lessons =
    app.add_subcommand("lessons", "List the lessons of past mistakes a workspace keeps (.grove/lessons.db)");
  lessons->add_option("--repo", ls.repo, "Workspace repository")->capture_default_str();
  lessons->add_flag("--json", ls.json, "Print the lessons as JSON");

  cli::submit_args u;
  auto* submit = app.add_subcommand("submit", "Send a build to a running grove serve and stream its progress");
  submit->add_option("request", u.request, "What to build");
  submit->add_option("--plan", u.plan_file, "Send a ready plan (JSON) instead of a request");
  submit->add_option("--url", u.url, "The server's WebSocket URL (ws:// or wss://)")->capture_default_str();
  submit->add_option("--token", u.token, "Bearer token (else GROVE_TOKEN)");
  submit->add_option("--cacert", u.cacert,
                     "wss://: trust this CA (PEM) for the server's certificate instead of the system's store");
  submit->add_flag("--fresh", u.fresh, "Regenerate every planned component as a new version (no cache hit)");
  submit->add_flag("--json", u.json, "Print the final report as JSON on stdout");
  submit->add_flag("-q,--quiet", u.quiet, "No progress on stderr");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? cli::exit_ok : cli::exit_usage;
  }
  if (build->parsed()) {
    int given = !b.request.empty() + !b.plan_file.empty() + !b.resume.empty();
    if (given != 1) {
      return cli::usage_error(
        "build takes a request, --plan FILE or --resume JOB (exactly one); see grove build --help");
    }
    if (b.fresh && !b.resume.empty()) {
      return cli::usage_error("--fresh starts a new build; a resumed job keeps the plan it began with");
    }
    return cli::build(b);
  }
  if (status->parsed()) return cli::status(st);
  if (lessons->parsed()) return cli::lessons(ls);
  if (serve->parsed()) {
    s.cluster = serve->count("--cluster-port") > 0;
    return cli::serve(s);
  }
  if (node->parsed()) {
    nd.has_port = node->count("--port") > 0;
    return cli::node(nd);
  }
  if (submit->parsed()) {
    if (u.request.empty() == u.plan_file.empty()) {
      return cli::usage_error("submit takes a request or --plan FILE (exactly one); see grove submit --help");
    }
    return cli::submit(u);
  }
  return cli::exit_usage;
}
