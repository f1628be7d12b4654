#include "runtime/node.hpp"

#include <thread>

#include <caf/all.hpp>

#include "actors/customer_agent.hpp"
#include "actors/generator.hpp"
#include "actors/integrator.hpp"
#include "actors/job_supervisor.hpp"
#include "actors/llm_router.hpp"
#include "actors/qa_agent.hpp"
#include "actors/telemetry.hpp"
#include "messages/registry.hpp"

namespace grove::runtime {

void configure(caf::actor_system_config& cfg, const config::settings& settings) {
  messages::register_messages(cfg);
  auto threads = settings.threads != 0 ? settings.threads : std::max(1u, std::thread::hardware_concurrency());
  cfg.set("scheduler.max-threads", static_cast<size_t>(threads));
}

node::node(caf::actor_system& sys, node_options opts) : sys_(sys), opts_(std::move(opts)) {
  if (!opts_.provider) opts_.provider = actors::make_builtin_provider();
  auto log = opts_.telemetry_log ? opts_.repo / ".grove" / "telemetry.jsonl" : std::filesystem::path{};
  telemetry_ = actors::spawn_telemetry(sys_, log);
  router_ = sys_.spawn(actors::llm_router, actors::route_table{opts_.provider, {}});
  customer_ = sys_.spawn(actors::customer_agent, router_);
  qa_ = sys_.spawn(actors::qa_agent);
  integrator_ = actors::spawn_integrator(sys_, opts_.repo, telemetry_);
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
                 caf::actor_cast<caf::actor>(integrator_)}) {
    caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
  }
}

void node::subscribe(actors::event_sink_actor sink) {
  caf::anon_send(telemetry_, actors::subscribe_atom::value, std::move(sink));
}

messages::job_report node::run(const messages::job_start& job) {
  actors::job_deps deps;
  deps.customer = customer_;
  deps.qa = qa_;
  deps.integrator = integrator_;
  deps.telemetry = telemetry_;
  deps.repo = opts_.repo;
  deps.settings = opts_.settings;
  deps.spawn_generator = factory_;
  auto sup = actors::spawn_job_supervisor(sys_, std::move(deps));
  messages::job_report report;
  caf::scoped_actor self{sys_};
  self->request(sup, caf::infinite, job).receive(
    [&](messages::job_report& r) { report = std::move(r); },
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
