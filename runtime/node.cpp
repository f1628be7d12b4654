#include "runtime/node.hpp"

#include <thread>

#include <caf/all.hpp>

#include "actors/customer_agent.hpp"
#include "infra/models/http_provider.hpp"
#include "actors/generator.hpp"
#include "actors/integrator.hpp"
#include "actors/job_registry.hpp"
#include "actors/job_supervisor.hpp"
#include "actors/journal_writer.hpp"
#include "actors/leases.hpp"
#include "infra/journal/journal.hpp"
#include "actors/llm_router.hpp"
#include "actors/qa_agent.hpp"
#include "actors/telemetry.hpp"
#include "messages/registry.hpp"
#include "infra/http/http_client.hpp"

namespace grove::runtime {

void configure(caf::actor_system_config& cfg, const config::settings& settings) {
  messages::register_messages(cfg);
  auto threads = settings.threads != 0 ? settings.threads : std::max(1u, std::thread::hardware_concurrency());
  cfg.set("scheduler.max-threads", static_cast<size_t>(threads));
}

messages::result<std::unique_ptr<node>> node::make(caf::actor_system& sys, node_options opts) {
  if (opts.journal) {
    // Open it here once, so a read-only or full workspace is a clear error before any work starts.
    if (auto j = journal::journal::open(opts.repo); !j) {
      return messages::make_failure(messages::errc::workspace, "cannot open the job journal: " + j.error().message);
    }
  }
  if (!opts.provider) {
    for (auto& [name, p] : opts.settings.models.providers) {
      if (p.type == "builtin") continue;
      auto base = models::resolve_base_url(p);
      if (auto u = http::parse_url(base); !u) {
        return messages::make_failure(messages::errc::invalid_config,
                                      "provider " + name + ": base URL: " + u.error().message);
      }
    }
  }
  return std::make_unique<node>(sys, std::move(opts));
}

node::node(caf::actor_system& sys, node_options opts) : sys_(sys), opts_(std::move(opts)) {
  auto log = opts_.telemetry_log ? opts_.repo / ".grove" / "telemetry.jsonl" : std::filesystem::path{};
  telemetry_ = actors::spawn_telemetry(sys_, log);
  actors::router_config rc;
  rc.models = opts_.settings.models;
  rc.telemetry = telemetry_;
  if (opts_.provider) {
    // One provider for every role, with the builtin's policy defaults.
    rc.models.providers = {{"override", config::provider_settings{}}};
    rc.models.routes = {{"default", {"override"}}};
    rc.providers["override"] = opts_.provider;
  } else {
    for (auto& [name, p] : rc.models.providers) {
      auto& client = http_[p.ca_file];
      if (p.type != "builtin" && !client) client = std::make_shared<http::client>(http::client_options{p.ca_file});
      if (auto impl = models::make_provider(name, p, client)) rc.providers[name] = impl;
    }
  }
  router_ = actors::spawn_llm_router(sys_, std::move(rc));
  customer_ = sys_.spawn(actors::customer_agent, router_);
  qa_ = sys_.spawn(actors::qa_agent);
  integrator_ = actors::spawn_integrator(sys_, opts_.repo, telemetry_);
  leases_ = actors::spawn_leases(sys_);
  if (opts_.journal) journal_ = actors::spawn_journal(sys_, opts_.repo);
  factory_ = default_generator_factory();
}

actors::generator_factory node::default_generator_factory() const {
  actors::generator_config gcfg{router_, opts_.repo / "output" / "components",
                                std::chrono::milliseconds{opts_.settings.generator_timeout_ms}};
  return [gcfg](caf::local_actor* parent) { return parent->spawn(actors::generator, gcfg); };
}

node::~node() {
  shutdown();
}

void node::shutdown() {
  if (down_) return;
  down_ = true;
  for (auto h : {caf::actor_cast<caf::actor>(telemetry_), caf::actor_cast<caf::actor>(router_),
                 caf::actor_cast<caf::actor>(customer_), caf::actor_cast<caf::actor>(qa_),
                 caf::actor_cast<caf::actor>(integrator_), caf::actor_cast<caf::actor>(leases_),
                 caf::actor_cast<caf::actor>(journal_), caf::actor_cast<caf::actor>(registry_)}) {
    if (h) caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
  }
}

void node::subscribe(actors::event_sink_actor sink) {
  caf::anon_send(telemetry_, actors::subscribe_atom::value, std::move(sink));
}

actors::job_supervisor_actor node::spawn_job() {
  actors::job_deps deps;
  deps.customer = customer_;
  deps.router = router_;
  deps.qa = qa_;
  deps.integrator = integrator_;
  deps.telemetry = telemetry_;
  deps.repo = opts_.repo;
  deps.settings = opts_.settings;
  deps.leases = leases_;
  deps.journal = journal_;
  deps.spawn_generator = factory_;
  return actors::spawn_job_supervisor(sys_, std::move(deps));
}

actors::job_registry_actor node::registry(uint32_t max_jobs_in_flight) {
  if (!registry_) {
    actors::registry_limits limits;
    limits.max_jobs_in_flight = max_jobs_in_flight;
    registry_ = actors::spawn_job_registry(
      sys_, [this] { return spawn_job(); }, limits);
    subscribe(registry_);
  }
  return registry_;
}

messages::job_report node::run(const messages::job_start& job) {
  auto sup = spawn_job();
  messages::job_report report;
  caf::scoped_actor self{sys_};
  self->request(sup, caf::infinite, job)
    .receive([&](messages::job_report& r) { report = std::move(r); },
             [&](caf::error& err) {
               report.status = "failed";
               report.error = sys_.render(err);
             });
  return report;
}

messages::telemetry_stats node::stats() {
  messages::telemetry_stats out;
  caf::scoped_actor self{sys_};
  self->request(telemetry_, std::chrono::seconds{10}, actors::stats_atom::value)
    .receive([&](const messages::telemetry_stats& s) { out = s; }, [](caf::error&) {});
  return out;
}

} // namespace grove::runtime
