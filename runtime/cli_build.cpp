#include <cstdio>
#include <iostream>

#include <unistd.h>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "messages/codec.hpp"
#include "runtime/cli.hpp"
#include "runtime/git/git.hpp"
#include "runtime/node.hpp"
#include "runtime/progress.hpp"
#include "runtime/workspace_lock.hpp"

namespace grove::runtime::cli {

int build(build_args& a) {
  auto settings = load(a.common);
  if (!settings) return usage_error(settings.error().message);
  auto job = job_from(a.request, a.plan_file);
  if (!job) return usage_error(job.error().message);

  auto repo = git::repository::open_or_init(a.common.repo);
  if (!repo) return usage_error(repo.error().message);
  auto root = repo->workdir();
  auto lock = workspace_lock::acquire(root);
  if (!lock) return usage_error(lock.error().message);
  auto stale = git::remove_stale(*repo);
  if (!stale) return usage_error("cleaning stale worktrees: " + stale.error().message);
  if (!stale->empty() && !a.quiet) {
    std::fprintf(stderr, "grove: removed %zu stale worktree(s), %zu branch(es), %zu folder(s) left by an earlier run\n",
                 stale->worktrees.size(), stale->branches.size(), stale->directories.size());
  }

  caf::actor_system_config cfg;
  configure(cfg, *settings);
  caf::actor_system sys{cfg};
  node_options opts;
  opts.repo = root;
  opts.settings = *settings;
  messages::job_report report;
  {
    auto made = node::make(sys, opts);
    if (!made) return usage_error(made.error().message);
    auto& n = **made;
    caf::actor printer_handle;
    if (!a.quiet) {
      auto printer = spawn_progress_printer(sys, stderr, ::isatty(STDERR_FILENO) == 1);
      n.subscribe(printer);
      printer_handle = caf::actor_cast<caf::actor>(printer);
    }
    report = n.run(*job);
    n.shutdown();
    if (printer_handle) caf::anon_send_exit(printer_handle, caf::exit_reason::user_shutdown);
  }
  if (!a.quiet) print_summary(report);
  if (a.json) {
    std::cout << messages::report_to_json(report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  return exit_code(report);
}

} // namespace grove::runtime::cli
