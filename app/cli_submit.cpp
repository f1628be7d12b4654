#include <cstdio>
#include <iostream>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "messages/codec.hpp"
#include "app/cli.hpp"
#include "infra/http/ws_client.hpp"
#include "app/progress.hpp"

namespace grove::app {

namespace {

using json = nlohmann::json;

messages::telemetry_event event_from(const json& f) {
  messages::telemetry_event ev;
  ev.job = f.value("job", "");
  ev.component = f.value("component", "");
  ev.stage = messages::stage_from_string(f.value("stage", ""));
  ev.attempt = f.value("attempt", 0u);
  ev.cache_hit = f.value("cache_hit", false);
  ev.detail = f.value("detail", "");
  return ev;
}

} // namespace

int submit(submit_args& a) {
  auto job = job_from(a.request, a.plan_file);
  if (!job) return usage_error(job.error().message);
  auto client = http::ws_client::connect(a.url, token_from(a.token), std::chrono::seconds{10}, a.cacert);
  if (!client) return usage_error("cannot reach " + a.url + ": " + client.error().message);
  json frame = {{"type", "build"}, {"id", "submit"}};
  if (a.fresh) frame["fresh"] = true;
  if (job->has_plan) {
    frame["plan"] = json::parse(messages::plan_to_text(job->ready_plan)); // the codec's own form: actions included
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
      auto report = messages::report_from_json(r);
      if (!a.quiet) print_summary(report);
      if (a.json) std::cout << r.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
      (*client)->close();
      return exit_code(report);
    }
  }
}

} // namespace grove::app
