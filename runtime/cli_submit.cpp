#include <cstdio>
#include <iostream>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "runtime/cli.hpp"
#include "runtime/http/ws_client.hpp"
#include "runtime/progress.hpp"

namespace grove::runtime::cli {

namespace {

using json = nlohmann::json;

messages::telemetry_event event_from(const json& f) {
  messages::telemetry_event ev;
  ev.job = f.value("job", "");
  ev.component = f.value("component", "");
  ev.stage = f.value("stage", "");
  ev.attempt = f.value("attempt", 0u);
  ev.cache_hit = f.value("cache_hit", false);
  ev.detail = f.value("detail", "");
  return ev;
}

messages::job_report report_from(const json& r) {
  messages::job_report out;
  out.job = r.value("job", "");
  out.request = r.value("request", "");
  out.status = r.value("status", "failed");
  out.output = r.value("output", "");
  out.error = r.value("error", "");
  out.elapsed_ms = r.value("elapsed_ms", int64_t{0});
  out.composition_commit = r.value("composition_commit", "");
  for (auto& c : r.value("components", json::array())) {
    messages::component_report cr;
    cr.name = c.value("name", "");
    cr.status = c.value("status", "");
    cr.error = c.value("error", "");
    out.components.push_back(cr);
  }
  if (auto u = r.find("usage"); u != r.end()) {
    out.model_usage.total.requests = u->value("requests", uint64_t{0});
    out.model_usage.total.tokens_in = u->value("tokens_in", uint64_t{0});
    out.model_usage.total.tokens_out = u->value("tokens_out", uint64_t{0});
    out.model_usage.total.cost_usd = u->value("cost_usd", 0.0);
  }
  return out;
}

} // namespace

int submit(submit_args& a) {
  auto job = job_from(a.request, a.plan_file);
  if (!job) return usage_error(job.error().message);
  auto client = http::ws_client::connect(a.url, token_from(a.token));
  if (!client) return usage_error("cannot reach " + a.url + ": " + client.error().message);
  json frame = {{"type", "build"}, {"id", "submit"}};
  if (job->has_plan) {
    json comps = json::array();
    for (auto& c : job->ready_plan.components) comps.push_back({{"name", c.name}, {"description", c.description}});
    frame["plan"] = {{"session_id", job->ready_plan.session_id}, {"request", job->ready_plan.request}, {"components", comps}};
  } else {
    frame["request"] = job->request;
  }
  if (auto sent = (*client)->send_text(frame.dump(-1, ' ', false, json::error_handler_t::replace)); !sent) {
    return usage_error(sent.error().message);
  }
  progress_view view{stderr, ::isatty(STDERR_FILENO) == 1};
  for (;;) {
    auto text = (*client)->read(std::chrono::hours{24});
    if (!text) {
      std::fprintf(stderr, "grove: connection lost: %s\n", text.error().message.c_str());
      return exit_partial;
    }
    auto f = json::parse(*text, nullptr, false);
    if (f.is_discarded() || !f.is_object()) continue;
    auto type = f.value("type", "");
    if (type == "accepted") {
      if (!a.quiet) std::fprintf(stderr, "job %s accepted\n", f.value("job", "").c_str());
    } else if (type == "event") {
      if (!a.quiet) view.on_event(event_from(f));
    } else if (type == "error") {
      std::fprintf(stderr, "grove: %s: %s\n", f.value("code", "error").c_str(), f.value("message", "").c_str());
      return exit_partial;
    } else if (type == "result") {
      auto& r = f["report"];
      auto report = report_from(r);
      if (!a.quiet) print_summary(report);
      if (a.json) std::cout << r.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
      (*client)->close();
      return exit_code(report);
    }
  }
}

} // namespace grove::runtime::cli
