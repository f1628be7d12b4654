#include "runtime/gateway/protocol.hpp"

#include <nlohmann/json.hpp>

#include "messages/codec.hpp"
#include "messages/names.hpp"
#include "messages/secrets.hpp"

namespace grove::gateway::protocol {

using json = nlohmann::json;

namespace {

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json job_json(const messages::job_status& js) {
  json comps = json::array();
  for (auto& c : js.components) {
    comps.push_back({{"name", c.name},
                     {"stage", messages::to_string(c.stage)},
                     {"attempt", c.attempt},
                     {"restarts", c.restarts},
                     {"cache_hit", c.cache_hit},
                     {"detail", c.detail},
                     {"node", c.node},
                     {"started_ms", c.started_ms},
                     {"updated_ms", c.updated_ms},
                     {"tokens_in", c.tokens_in},
                     {"tokens_out", c.tokens_out},
                     {"cost_usd", c.cost_usd}});
  }
  json out = {{"job", js.job},
              {"request", js.request},
              {"state", messages::to_string(js.state)},
              {"started_ms", js.started_ms},
              {"updated_ms", js.updated_ms},
              {"tokens_in", js.tokens_in},
              {"tokens_out", js.tokens_out},
              {"cost_usd", js.cost_usd},
              {"errors", js.errors},
              {"components", comps},
              {"finished", js.finished}};
  if (js.finished) out["report"] = messages::report_to_json(js.report);
  return out;
}

} // namespace

std::variant<command, error> parse(std::string_view frame, const limits& lim) {
  json doc = json::parse(frame, nullptr, false);
  if (doc.is_discarded()) return error{"invalid_json", "the frame is not valid JSON", ""};
  if (!doc.is_object()) return error{"invalid_message", "a frame must be a JSON object", ""};
  command cmd;
  if (auto id = doc.find("id"); id != doc.end()) {
    if (id->is_string())
      cmd.id = messages::truncate_utf8(id->get<std::string>(), 128);
    else if (id->is_number_integer())
      cmd.id = std::to_string(id->get<int64_t>());
    else
      return error{"invalid_message", "\"id\" must be a string or an integer", ""};
  }
  auto type = doc.find("type");
  if (type == doc.end() || !type->is_string()) return error{"invalid_message", "missing \"type\" (a string)", cmd.id};
  auto t = type->get<std::string>();
  auto job_field = [&](bool required) -> std::optional<error> {
    auto j = doc.find("job");
    if (j == doc.end()) {
      if (required) return error{"invalid_message", "\"" + t + "\" needs \"job\" (a string)", cmd.id};
      return std::nullopt;
    }
    if (!j->is_string() || j->get<std::string>().empty() || j->get<std::string>().size() > 64) {
      return error{"invalid_message", "\"job\" must be a non-empty string of at most 64 characters", cmd.id};
    }
    cmd.job = j->get<std::string>();
    return std::nullopt;
  };
  if (t == "build") {
    cmd.kind = command::build;
    if (auto f = doc.find("fresh"); f != doc.end()) {
      if (!f->is_boolean()) return error{"invalid_message", "\"fresh\" must be true or false", cmd.id};
      cmd.start.fresh = f->get<bool>();
    }
    auto req = doc.find("request");
    auto plan = doc.find("plan");
    if ((req == doc.end()) == (plan == doc.end())) {
      return error{"invalid_message", "\"build\" needs exactly one of \"request\" (a string) or \"plan\" (an object)",
                   cmd.id};
    }
    if (req != doc.end()) {
      if (!req->is_string()) return error{"invalid_message", "\"request\" must be a string", cmd.id};
      auto text = req->get<std::string>();
      if (text.size() > lim.max_request_bytes) {
        return error{"request_too_long",
                     "the request is " + std::to_string(text.size()) + " bytes; the limit is " +
                       std::to_string(lim.max_request_bytes),
                     cmd.id};
      }
      if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
        return error{"invalid_message", "the request is empty", cmd.id};
      }
      cmd.start.request = messages::sanitize_utf8(text);
    } else {
      auto p = messages::parse_plan(plan->dump());
      if (!p) return error{"invalid_plan", p.error().message, cmd.id};
      cmd.start.has_plan = true;
      cmd.start.ready_plan = std::move(*p);
    }
    return cmd;
  }
  if (t == "status") {
    cmd.kind = command::status;
    if (auto e = job_field(false)) return *e;
    return cmd;
  }
  if (t == "cancel") {
    cmd.kind = command::cancel;
    if (auto e = job_field(true)) return *e;
    return cmd;
  }
  if (t == "subscribe") {
    cmd.kind = command::subscribe;
    if (auto e = job_field(true)) return *e;
    return cmd;
  }
  if (t == "ping") return cmd;
  return error{"unknown_type",
               "unknown frame type \"" + messages::printable(t) + "\" (build, status, cancel, subscribe, ping)",
               cmd.id};
}

std::string accepted(const std::string& job, const std::string& id) {
  json j = {{"type", "accepted"}, {"job", job}};
  if (!id.empty()) j["id"] = id;
  return dump(j);
}

std::string event(const messages::telemetry_event& ev) {
  json j = {{"type", "event"},           {"job", ev.job},
            {"component", ev.component}, {"stage", messages::to_string(ev.stage)},
            {"attempt", ev.attempt},     {"cache_hit", ev.cache_hit},
            {"detail", ev.detail},       {"ts_ms", ev.ts_ms}};
  if (!ev.provider.empty()) {
    j["provider"] = ev.provider;
    j["tokens_in"] = ev.tokens_in;
    j["tokens_out"] = ev.tokens_out;
    j["cost_usd"] = ev.cost_usd;
  }
  if (ev.latency_ms != 0) j["latency_ms"] = ev.latency_ms;
  if (!ev.node.empty()) j["node"] = ev.node;
  if (ev.stage == messages::stage::queued) j["position"] = ev.attempt;
  return dump(j);
}

std::string result(const messages::job_report& report) {
  return dump({{"type", "result"}, {"job", report.job}, {"report", messages::report_to_json(report)}});
}

std::string error_frame(const std::string& code, const std::string& message, const std::string& id,
                        const std::string& job) {
  json j = {{"type", "error"}, {"code", code}, {"message", messages::redact(message)}};
  if (!id.empty()) j["id"] = id;
  if (!job.empty()) j["job"] = job;
  return dump(j);
}

std::string jobs_json(const messages::status_reply& reply) {
  json jobs = json::array();
  for (auto& js : reply.jobs) jobs.push_back(job_json(js));
  return dump(jobs);
}

std::string status(const messages::status_reply& reply, const std::string& id) {
  json j = {{"type", "status"}, {"jobs", json::parse(jobs_json(reply))}};
  if (!id.empty()) j["id"] = id;
  return dump(j);
}

std::string subscribed(const std::string& job, const std::string& id) {
  json j = {{"type", "subscribed"}, {"job", job}};
  if (!id.empty()) j["id"] = id;
  return dump(j);
}

std::string cancelled(const std::string& job, bool was_running, const std::string& id) {
  json j = {{"type", "cancelled"}, {"job", job}, {"was_running", was_running}};
  if (!id.empty()) j["id"] = id;
  return dump(j);
}

std::string pong(const std::string& id) {
  json j = {{"type", "pong"}};
  if (!id.empty()) j["id"] = id;
  return dump(j);
}

std::string budget_json(const budget_view& b) {
  if (!b.configured) return json{{"configured", false}}.dump();
  double spent = 0;
  for (auto& [_, usd] : b.spent_by_provider) spent += usd;
  return json{{"configured", true},
              {"limit_usd", b.limit_usd},
              {"window_ms", b.window_ms},
              {"spent_usd", spent},
              {"left_usd", std::max(0.0, b.limit_usd - spent)},
              {"by_provider", b.spent_by_provider},
              {"frees_at_ms", b.frees_at_ms}}
    .dump();
}

std::string nodes_json(const std::vector<messages::node_info>& nodes) {
  json out = json::array();
  for (auto& n : nodes) {
    out.push_back({{"name", n.name},
                   {"address", n.address},
                   {"capacity", n.capacity},
                   {"in_flight", n.in_flight},
                   {"up", n.up},
                   {"local", n.local},
                   {"last_seen_ms", n.last_seen_ms},
                   {"placed", n.placed},
                   {"lost", n.lost},
                   {"providers", n.providers}});
  }
  return out.dump();
}

} // namespace grove::gateway::protocol
