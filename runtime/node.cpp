#include "runtime/node.hpp"

#include "runtime/node_supervisor.hpp"

#include <thread>
#include <utility>

#include <caf/all.hpp>

#include "actors/cluster.hpp"
#include "actors/customer_agent.hpp"
#include "infra/models/http_provider.hpp"
#include "actors/generator.hpp"
#include "actors/integrator.hpp"
#include "actors/job_registry.hpp"
#include "actors/job_supervisor.hpp"
#include "actors/journal_writer.hpp"
#include "actors/leases.hpp"
#include "actors/lessons.hpp"
#include "infra/journal/journal.hpp"
#include "actors/llm_router.hpp"
#include "actors/qa_agent.hpp"
#include "actors/service_proxy.hpp"
#include "actors/telemetry.hpp"
#include "messages/registry.hpp"
#include "infra/http/http_client.hpp"
#include "infra/models/embedder.hpp"
#include "logic/budget.hpp"
#include "messages/clock.hpp"
#include "logic/library.hpp"
#include "logic/planner.hpp"

namespace grove::runtime {

actors::router_config router_setup(const config::settings& settings, std::shared_ptr<models::provider> one,
                                   actors::telemetry_actor telemetry,
                                   std::map<std::string, std::shared_ptr<http::client>>& http) {
  actors::router_config rc;
  rc.models = settings.models;
  rc.telemetry = std::move(telemetry);
  if (one) {
    // One provider for every role, with the builtin's policy defaults.
    rc.models.providers = {{"override", config::provider_settings{}}};
    rc.models.routes = {{"default", {"override"}}};
    rc.providers["override"] = std::move(one);
    return rc;
  }
  for (auto& [name, p] : rc.models.providers) {
    auto& client = http[p.ca_file];
    if (p.type != "builtin" && !client) client = std::make_shared<http::client>(http::client_options{p.ca_file});
    if (auto impl = models::make_provider(name, p, client)) rc.providers[name] = impl;
  }
  return rc;
}

namespace {

// A route that would call a priced provider first (for any difficulty tier).
bool priced_route(const config::model_settings& m, const std::string& role) {
  for (const char* tier : {"simple", "hard"}) {
    auto route = config::route_for(m, role, tier);
    if (route.empty()) continue;
    auto p = m.providers.find(route.front());
    if (p != m.providers.end() && (p->second.price_in_per_mtok > 0 || p->second.price_out_per_mtok > 0)) return true;
  }
  return false;
}

bool builtin_route(const config::model_settings& m, const std::string& role) {
  auto route = config::route_for(m, role, "hard");
  if (route.empty()) return true;
  auto p = m.providers.find(route.front());
  return p == m.providers.end() ? route.front() == "builtin" : p->second.type == "builtin";
}

} // namespace

bool needs_priced_model(const config::settings& settings, const std::filesystem::path& repo,
                        const messages::job_start& start) {
  auto& m = settings.models;
  std::vector<messages::component_spec> components;
  if (start.has_plan) {
    components = start.ready_plan.components;
  } else if (priced_route(m, "plan")) {
    return true;
  } else if (builtin_route(m, "plan")) {
    components = logic::builtin::plan_components(start.request);
  } else {
    return priced_route(m, "generate") || priced_route(m, "edit");
  }
  for (auto& c : components) {
    if (c.action == "edit") {
      if (priced_route(m, "edit")) return true;
      continue;
    }
    std::error_code ec;
    bool cached = !start.fresh && c.action == "create" &&
                  std::filesystem::is_regular_file(repo / "output" / "components" / logic::library::file(c.name), ec);
    if (!cached && priced_route(m, "generate")) return true;
  }
  return false;
}

messages::status check_providers(const config::settings& settings) {
  for (auto& [name, p] : settings.models.providers) {
    if (p.type == "builtin") continue;
    auto base = models::resolve_base_url(p);
    if (auto u = http::parse_url(base); !u) {
      return messages::make_failure(messages::errc::invalid_config,
                                    "provider " + name + ": base URL: " + u.error().message);
    }
  }
  if (settings.embeddings.enabled()) {
    if (auto e = models::embedder::make(settings.embeddings, nullptr); !e) return e.error();
  }
  return messages::ok();
}

void configure(caf::actor_system_config& cfg, const config::settings& settings) {
  messages::register_messages(cfg);
  auto threads = settings.threads != 0 ? settings.threads : std::max(1u, std::thread::hardware_concurrency());
  cfg.set("scheduler.max-threads", static_cast<size_t>(threads));
  // An idle worker polls its queue 100 times, then sleeps on a condition
  // variable that a message from outside the scheduler wakes. CAF's middle
  // phase (500 polls 50 us apart, 25 ms per idle spell) bought no wall time
  // here and cost ~3% of a build's CPU (P1: 1.175 -> 1.142 ms per component;
  // P1 and P2 walls unchanged; benchmarks/RESULTS.md).
  cfg.set("work-stealing.moderate-poll-attempts", size_t{0});
}

messages::result<std::unique_ptr<node>> node::make(caf::actor_system& sys, node_options opts) {
  if (opts.journal) {
    // Open it here once, so a read-only or full workspace is a clear error before any work starts.
    if (auto j = journal::journal::open(opts.repo); !j) {
      return messages::make_failure(messages::errc::workspace, "cannot open the job journal: " + j.error().message);
    }
  }
  if (!opts.provider) {
    if (auto ok = check_providers(opts.settings); !ok) return ok.error();
  }
  if (opts.settings.budget_usd_per_day > 0 && !opts.ledger) {
    auto ledger = journal::spend_ledger::open(opts.repo, opts.settings.budget_usd_per_day,
                                              opts.settings.budget_window_ms, messages::now_ms());
    if (!ledger) {
      return messages::make_failure(messages::errc::workspace,
                                    "cannot open the spend journal: " + ledger.error().message);
    }
    opts.ledger = std::move(*ledger);
  }
  return std::make_unique<node>(sys, std::move(opts));
}

const std::vector<std::string>& node::service_names() {
  static const std::vector<std::string> names{"telemetry",  "llm_router", "customer_agent", "qa_agent",
                                              "integrator", "leases",     "journal"};
  return names;
}

node::node(caf::actor_system& sys, node_options opts) : sys_(sys), opts_(std::move(opts)) {
  // Every service gets its stable address first: services and jobs hold
  // proxies, so a restarted instance is reached at the same address.
  std::map<std::string, caf::actor> proxy;
  for (auto& name : service_names()) {
    if (name == "journal" && !opts_.journal) continue;
    proxy[name] = actors::spawn_service_proxy(sys_, name);
  }
  telemetry_ = caf::actor_cast<actors::telemetry_actor>(proxy["telemetry"]);
  router_ = caf::actor_cast<actors::router_actor>(proxy["llm_router"]);
  customer_ = caf::actor_cast<actors::customer_actor>(proxy["customer_agent"]);
  qa_ = caf::actor_cast<actors::qa_actor>(proxy["qa_agent"]);
  integrator_ = caf::actor_cast<actors::integrator_actor>(proxy["integrator"]);
  leases_ = caf::actor_cast<actors::lease_actor>(proxy["leases"]);
  if (opts_.journal) journal_ = caf::actor_cast<actors::journal_actor>(proxy["journal"]);
  if (opts_.settings.lessons) {
    actors::lessons_options lo;
    if (auto& e = opts_.settings.embeddings; e.enabled()) {
      auto& client = http_[e.ca_file];
      if (!client) client = std::make_shared<http::client>(http::client_options{e.ca_file});
      if (auto made = models::embedder::make(e, client)) lo.embedder = std::move(*made);
      lo.min_similarity = e.min_similarity;
    }
    lessons_ = actors::spawn_lessons(sys_, opts_.repo, std::move(lo));
  }

  auto log = opts_.telemetry_log ? opts_.repo / ".grove" / "telemetry.jsonl" : std::filesystem::path{};
  actors::telemetry_log_limits log_limits{uint64_t{opts_.settings.telemetry_log_max_mb} * 1024 * 1024,
                                          opts_.settings.telemetry_log_keep};
  auto rc = router_setup(opts_.settings, opts_.provider, telemetry_, http_);
  rc.ledger = opts_.ledger;
  // The reviewer: a model on its own route when one is configured (config::review_route), else the builtin.
  actors::qa_config qc;
  qc.review_mode = opts_.settings.review;
  if (auto route = config::review_route(rc.models); !route.empty() && qc.review_mode != "off") {
    rc.models.routes["review"] = route;
    qc.router = router_;
    qc.timeout = std::chrono::milliseconds{std::min<uint32_t>(opts_.settings.generator_timeout_ms, 60000)};
  }

  // What a restarted instance starts from: the books outlive instances.
  auto events = actors::make_telemetry_book();
  auto book = actors::make_lease_book();
  auto repo = opts_.repo;
  auto tel = telemetry_;
  auto router = router_;
  auto integrator_ran = std::make_shared<bool>(false); // a later start is a restart: recover first
  std::map<std::string, std::function<caf::actor()>> start{
    {"telemetry",
     [&sys, log, events, log_limits] {
       return caf::actor_cast<caf::actor>(actors::spawn_telemetry(sys, log, events, log_limits));
     }},
    {"llm_router", [&sys, rc] { return caf::actor_cast<caf::actor>(actors::spawn_llm_router(sys, rc)); }},
    {"customer_agent",
     [&sys, router] { return caf::actor_cast<caf::actor>(actors::spawn_customer_agent(sys, router)); }},
    {"qa_agent", [&sys, qc] { return caf::actor_cast<caf::actor>(sys.spawn(actors::qa_agent, qc)); }},
    {"integrator",
     [&sys, repo, tel, integrator_ran] {
       auto again = std::exchange(*integrator_ran, true);
       return caf::actor_cast<caf::actor>(actors::spawn_integrator(sys, repo, tel, again));
     }},
    {"leases", [&sys, book] { return caf::actor_cast<caf::actor>(actors::spawn_leases(sys, book)); }},
    {"journal", [&sys, repo] { return caf::actor_cast<caf::actor>(actors::spawn_journal(sys, repo)); }},
  };
  std::vector<service_spec> services;
  for (auto& name : service_names()) {
    if (!proxy.count(name)) continue;
    service_spec spec;
    spec.name = name;
    spec.start = start.at(name);
    spec.proxy = proxy[name];
    services.push_back(std::move(spec));
  }
  node_supervisor_options so;
  so.policy = opts_.settings.service_restart;
  so.telemetry = telemetry_;
  so.on_give_up = opts_.on_give_up;
  supervisor_ = spawn_node_supervisor(sys_, std::move(services), std::move(so));
  factory_ = default_generator_factory();
}

actors::generator_config node::generator_setup() const {
  return {router_, opts_.repo / "output" / "components",
          std::chrono::milliseconds{opts_.settings.generator_timeout_ms}};
}

actors::cluster_actor node::start_cluster(const std::string& address, std::function<void(const std::string&)> log) {
  if (placement_) return placement_;
  actors::cluster_config cc;
  cc.name = opts_.node_name;
  cc.address = address;
  cc.local_capacity = opts_.settings.cluster.local_capacity;
  if (cc.local_capacity > 0) cc.local = actors::spawn_worker_host(sys_, generator_setup());
  for (auto& [name, _] : opts_.settings.models.providers) cc.providers.push_back(name);
  cc.telemetry = telemetry_;
  cc.log = std::move(log);
  placement_ = actors::spawn_cluster(sys_, std::move(cc));
  return placement_;
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
  // When this returns, the node's services have ended: their files closed and what they were told
  // written (the lesson store's lessons, the journal's records), so the workspace can be opened again,
  // by a node in this process too, or removed. Bounded: 10 s in all.
  std::vector<caf::actor> ending;
  for (auto& name : service_names()) {
    if (auto a = service_instance(name)) ending.push_back(std::move(a));
  }
  if (lessons_) ending.push_back(caf::actor_cast<caf::actor>(lessons_));
  caf::scoped_actor self{sys_};
  for (auto& a : ending) self->monitor(a);
  if (lessons_) self->send_exit(lessons_, caf::exit_reason::user_shutdown);
  // The supervisor stops every service and proxy; the registry is the serving front end's.
  self->send(supervisor_, actors::svc_stop_atom::value, std::string{});
  if (registry_) self->send_exit(registry_, caf::exit_reason::user_shutdown);
  if (placement_) self->send_exit(placement_, caf::exit_reason::user_shutdown);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  for (size_t left = ending.size(); left > 0;) {
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (wait.count() <= 0) break;
    bool late = false;
    self->receive([&](const caf::down_msg&) { --left; }, caf::after(wait) >> [&] { late = true; });
    if (late) break;
  }
}

caf::actor node::service_instance(const std::string& name) {
  caf::actor out;
  caf::scoped_actor self{sys_};
  self->request(supervisor_, std::chrono::seconds{10}, caf::get_atom::value, name)
    .receive([&](caf::actor& a) { out = std::move(a); }, [](caf::error&) {});
  return out;
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
  deps.lessons = lessons_;
  deps.spawn_generator = factory_;
  deps.placement = placement_;
  deps.node_name = opts_.node_name;
  return actors::spawn_job_supervisor(sys_, std::move(deps));
}

actors::job_registry_actor node::registry(uint32_t max_jobs_in_flight, uint32_t max_queued) {
  if (!registry_) {
    actors::registry_limits limits;
    limits.max_jobs_in_flight = max_jobs_in_flight;
    limits.max_queued = max_queued;
    actors::job_admission admit;
    if (auto ledger = opts_.ledger) {
      admit = [ledger, settings = opts_.settings,
               repo = opts_.repo](const messages::job_start& start) -> std::optional<messages::failure> {
        auto now = messages::now_ms();
        auto spent = ledger->spent(now);
        if (spent < ledger->limit_usd() || !needs_priced_model(settings, repo, start)) return std::nullopt;
        return messages::make_failure(
          messages::errc::budget,
          "the server's budget of " + logic::budget::dollars(ledger->limit_usd()) + " per " +
            logic::budget::window_text(ledger->window_ms()) + " (budget_usd_per_day) is spent (" +
            logic::budget::dollars(spent) + "): jobs that need a model are refused" +
            logic::budget::frees_up(ledger->frees_at(now), now, " until spend starts leaving the window in ") +
            "; jobs served from the library still run");
      };
    }
    registry_ = actors::spawn_job_registry(
      sys_, [this] { return spawn_job(); }, limits, journal_, std::move(admit));
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
