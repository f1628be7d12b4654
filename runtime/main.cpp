// grove: the command-line entry point. Exit codes: 0 every component landed,
// 1 some were dropped or the job failed, 2 usage or configuration errors.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "messages/codec.hpp"
#include "messages/names.hpp"
#include "runtime/git/git.hpp"
#include "runtime/node.hpp"
#include "runtime/progress.hpp"
#include "runtime/workspace_lock.hpp"

namespace {

using namespace grove;

constexpr int exit_ok = 0;
constexpr int exit_partial = 1;
constexpr int exit_usage = 2;

struct build_args {
  std::string request;
  std::string plan_file;
  std::string repo = "workspace";
  std::string config_file;
  uint32_t max_attempts = 0;
  uint32_t parallel = 0;
  uint32_t threads = 0;
  std::string provider;
  bool json = false;
  bool quiet = false;
};

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "grove: %s\n", msg.c_str());
  return exit_usage;
}

void print_summary(const messages::job_report& r) {
  size_t landed = 0, cached = 0, dropped = 0;
  for (auto& c : r.components) {
    landed += c.status == "landed";
    cached += c.status == "cached";
    dropped += c.status == "dropped";
  }
  std::fprintf(stderr, "\njob %s: %s in %.2f s: %zu landed, %zu from cache, %zu dropped\n", r.job.c_str(),
               r.status.c_str(), static_cast<double>(r.elapsed_ms) / 1000.0, landed, cached, dropped);
  for (auto& c : r.components) {
    if (c.status == "dropped") std::fprintf(stderr, "  dropped %s: %s\n", c.name.c_str(), c.error.c_str());
  }
  if (!r.error.empty()) std::fprintf(stderr, "  error: %s\n", r.error.c_str());
  if (!r.output.empty()) std::fprintf(stderr, "page: %s\n", r.output.c_str());
}

int run_build(build_args& a) {
  auto settings = config::defaults();
  if (!a.config_file.empty()) {
    auto loaded = config::load_settings(a.config_file);
    if (!loaded) return usage_error(loaded.error().message);
    settings = *loaded;
  }
  if (a.max_attempts != 0) settings.max_attempts = a.max_attempts;
  if (a.parallel != 0) settings.parallel = a.parallel;
  if (a.threads != 0) settings.threads = a.threads;
  if (!a.provider.empty()) {
    auto with = config::apply_provider_flag(settings, a.provider);
    if (!with) return usage_error(with.error().message);
    settings = *with;
  }

  messages::job_start job;
  if (!a.plan_file.empty()) {
    std::ifstream in{a.plan_file};
    if (!in) return usage_error("cannot read plan file " + a.plan_file);
    std::stringstream buf;
    buf << in.rdbuf();
    auto p = messages::parse_plan(buf.str());
    if (!p) return usage_error(a.plan_file + ": " + p.error().message);
    job.has_plan = true;
    job.ready_plan = std::move(*p);
  } else {
    job.request = messages::sanitize_utf8(a.request);
    if (job.request.find_first_not_of(" \t\r\n") == std::string::npos) return usage_error("the request is empty");
    if (job.request.size() > 8000) return usage_error("the request is longer than 8000 bytes");
  }

  auto repo = git::repository::open_or_init(a.repo);
  if (!repo) return usage_error(repo.error().message);
  auto root = repo->workdir();
  auto lock = runtime::workspace_lock::acquire(root);
  if (!lock) return usage_error(lock.error().message);
  auto stale = git::remove_stale(*repo);
  if (!stale) return usage_error("cleaning stale worktrees: " + stale.error().message);
  if (!stale->empty() && !a.quiet) {
    std::fprintf(stderr, "grove: removed %zu stale worktree(s), %zu branch(es), %zu folder(s) left by an earlier run\n",
                 stale->worktrees.size(), stale->branches.size(), stale->directories.size());
  }

  caf::actor_system_config cfg;
  runtime::configure(cfg, settings);
  caf::actor_system sys{cfg};
  runtime::node_options opts;
  opts.repo = root;
  opts.settings = settings;
  messages::job_report report;
  {
    auto made = runtime::node::make(sys, opts);
    if (!made) return usage_error(made.error().message);
    auto& n = **made;
    caf::actor printer_handle;
    if (!a.quiet) {
      auto printer = runtime::spawn_progress_printer(sys, stderr, ::isatty(STDERR_FILENO) == 1);
      n.subscribe(printer);
      printer_handle = caf::actor_cast<caf::actor>(printer);
    }
    report = n.run(job);
    if (!report.output.empty()) report.output = (root / report.output).string();
    n.shutdown();
    if (printer_handle) caf::anon_send_exit(printer_handle, caf::exit_reason::user_shutdown);
  }
  if (!a.quiet) print_summary(report);
  if (a.json) {
    std::cout << messages::report_to_json(report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  return report.status == "done" ? exit_ok : exit_partial;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"grove: AI agents build a web page in parallel, each component in its own git worktree"};
  app.require_subcommand(1);
  build_args a;
  auto* build = app.add_subcommand("build", "Build a page from a request (or a ready plan) in a workspace repository");
  build->add_option("request", a.request, "What to build, e.g. \"a dashboard page and a login form\"");
  build->add_option("--plan", a.plan_file, "Use a ready plan (JSON, plan.schema.json) and skip the customer agent");
  build->add_option("--repo", a.repo, "Workspace repository (created if missing)")->capture_default_str();
  build->add_option("--config", a.config_file, "Config file (JSON; see config/grove.example.json)");
  build->add_option("--max-attempts", a.max_attempts, "QA attempts per component (default 3)")->check(CLI::Range(1, 20));
  build->add_option("--parallel", a.parallel, "Components in flight at once (default 16)")->check(CLI::Range(1, 10000));
  build->add_option("--provider", a.provider, "Route every role to one provider: NAME[:MODEL], NAME a configured provider or builtin, openai, ollama, gemini");
  build->add_option("--threads", a.threads, "Actor scheduler threads (default: one per core)")->check(CLI::Range(1, 256));
  build->add_flag("--json", a.json, "Print the final report as JSON on stdout");
  build->add_flag("-q,--quiet", a.quiet, "No progress on stderr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? exit_ok : exit_usage;
  }
  if (build->parsed()) {
    if (a.request.empty() == a.plan_file.empty()) {
      return usage_error("build takes a request or --plan FILE (exactly one); see grove build --help");
    }
    return run_build(a);
  }
  return exit_usage;
}
