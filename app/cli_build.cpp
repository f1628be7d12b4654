#include <cstdio>
#include <iostream>

#include <unistd.h>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "messages/codec.hpp"
#include "app/cli.hpp"
#include "app/node_host.hpp"
#include "infra/journal/journal.hpp"
#include "infra/journal/lessons.hpp"
#include "runtime/node.hpp"
#include "app/progress.hpp"

namespace grove::app {

namespace {

void print_report(const messages::job_report& report, const build_args& a) {
  if (!a.quiet) print_summary(report);
  if (a.json) {
    std::cout << messages::report_to_json(report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
}

} // namespace

int build(build_args& a) {
  auto settings = load(a.common);
  if (!settings) return usage_error(settings.error().message);
  std::optional<messages::job_start> job;
  if (a.resume.empty()) {
    auto j = job_from(a.request, a.plan_file);
    if (!j) return usage_error(j.error().message);
    job = std::move(*j);
    job->fresh = a.fresh;
  }
  auto ws = open_workspace(a.common.repo, a.quiet);
  if (!ws) return usage_error(ws.error().message);
  auto jr = journal::journal::open(ws->root);
  if (!jr) return usage_error("cannot open the job journal: " + jr.error().message);
  if (!a.resume.empty()) {
    auto known = (*jr)->job(a.resume);
    if (!known) return usage_error("no job " + a.resume + " in this workspace's journal (see grove status)");
    if (journal::is_final(known->state)) {
      // Nothing to continue: show what it ended with.
      auto report = messages::report_from_json(nlohmann::json::parse(known->report_json, nullptr, false));
      print_report(report, a);
      return exit_code(report);
    }
  }
  auto unfinished = resumable_jobs(**jr, a.quiet);
  if (!unfinished) return usage_error(unfinished.error().message);
  jr->reset();

  node_host host{ws->root, *settings};
  auto& sys = host.sys;
  auto& opts = host.opts;
  // A node service failed past its restart limit: the job in flight ends and stays resumable.
  opts.on_give_up = [](const std::string& why) { std::fprintf(stderr, "grove: %s\n", why.c_str()); };
  std::optional<messages::job_report> result;
  {
    auto made = runtime::node::make(sys, opts);
    if (!made) return usage_error(made.error().message);
    auto& n = **made;
    caf::actor printer_handle;
    if (!a.quiet) {
      auto printer = spawn_progress_printer(sys, stderr, ::isatty(STDERR_FILENO) == 1);
      n.subscribe(printer);
      printer_handle = caf::actor_cast<caf::actor>(printer);
    }
    // Jobs a killed run left unfinished go first, oldest first: landed components
    // are not regenerated (the cache holds them) and each composes once at its end.
    for (auto& u : *unfinished) {
      auto report = n.run(u.start);
      bool is_target =
        u.start.job == a.resume || (job && !job->has_plan && a.resume.empty() && !result && u.request == job->request);
      if (is_target) {
        result = std::move(report);
      } else if (!a.quiet) {
        print_summary(report);
      }
    }
    if (!result && job) result = n.run(*job);
    n.shutdown();
    if (printer_handle) caf::anon_send_exit(printer_handle, caf::exit_reason::user_shutdown);
  }
  settle_workspace(*ws, a.quiet);
  if (!result) return usage_error("job " + a.resume + " could not be resumed");
  print_report(*result, a);
  return exit_code(*result);
}

namespace {

// A listing of a store the workspace has not made yet: an empty JSON list, or a line saying so.
bool nothing_stored(const status_args& a, const char* file, const char* what) {
  auto root = std::filesystem::path{a.repo};
  if (std::filesystem::exists(root / ".grove" / file)) return false;
  if (a.json) {
    std::cout << "[]\n";
  } else {
    std::fprintf(stderr, "grove: no %s in %s yet\n", what, root.c_str());
  }
  return true;
}

} // namespace

int lessons(status_args& a) {
  auto root = std::filesystem::path{a.repo};
  if (nothing_stored(a, "lessons.db", "lessons")) return exit_ok;
  auto store = journal::lesson_store::open(root);
  if (!store) return usage_error("cannot open the lessons: " + store.error().message);
  auto all = (*store)->all();
  if (!all) return usage_error(all.error().message);
  nlohmann::json out = nlohmann::json::array();
  for (auto& l : *all) {
    out.push_back({{"id", l.id},
                   {"kind", l.kind},
                   {"code", l.code},
                   {"what", l.what},
                   {"advice", l.advice},
                   {"strength", l.strength},
                   {"retired", l.retired}});
    if (!a.json) {
      std::printf("%-4lld %-18s %-20s %+3lld%s  %s\n      advice: %s\n", static_cast<long long>(l.id),
                  l.kind.substr(0, 18).c_str(), l.code.substr(0, 20).c_str(), static_cast<long long>(l.strength),
                  l.retired ? " retired" : "", l.what.substr(0, 100).c_str(), l.advice.substr(0, 100).c_str());
    }
  }
  if (a.json) std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return exit_ok;
}

int status(status_args& a) {
  auto root = std::filesystem::path{a.repo};
  if (nothing_stored(a, "journal.db", "jobs")) return exit_ok;
  auto jr = journal::journal::open(root);
  if (!jr) return usage_error("cannot open the job journal: " + jr.error().message);
  auto jobs = (*jr)->recent(50);
  if (!jobs) return usage_error(jobs.error().message);
  // An unfinished job is running when a live grove holds the workspace; else it needs --resume.
  auto holder = git::workspace_lock::holder(root);
  auto running_note = holder > 0 ? "   (running in grove process " + std::to_string(holder) + ")"
                                 : std::string{"   (running in another grove process)"};
  nlohmann::json out = nlohmann::json::array();
  for (auto& j : *jobs) {
    auto comps = (*jr)->components(j.id);
    size_t landed = 0, total = comps ? comps->size() : 0;
    nlohmann::json cj = nlohmann::json::array();
    if (comps) {
      for (auto& c : *comps) {
        landed += c.state == "landed" || c.state == "cached";
        cj.push_back({{"name", c.name}, {"state", c.state}, {"attempts", c.attempts}, {"commit", c.commit}});
      }
    }
    bool final = journal::is_final(j.state);
    nlohmann::json row = {{"job", j.id},
                          {"state", j.state},
                          {"request", j.request},
                          {"created_ms", j.created_ms},
                          {"updated_ms", j.updated_ms},
                          {"components", cj},
                          {"finished", final}};
    if (!final) {
      row["running_elsewhere"] = holder != 0;
      if (holder > 0) row["pid"] = holder;
    }
    out.push_back(std::move(row));
    if (!a.json) {
      std::string note = final ? "" : holder != 0 ? running_note : "   (unfinished: grove build --resume " + j.id + ")";
      std::printf("%-16s  %-10s  %3zu/%-3zu  %s%s\n", j.id.c_str(), j.state.c_str(), landed, total,
                  j.request.substr(0, 60).c_str(), note.c_str());
    }
  }
  if (a.json) std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return exit_ok;
}

} // namespace grove::app
