#pragma once

#include <map>
#include <memory>
#include <string>

#include "actors/interfaces.hpp"
#include "infra/journal/spend.hpp"
#include "infra/models/provider.hpp"
#include "config/settings.hpp"

namespace grove::actors {

/// The providers a router may call, by name, with their settings.
struct router_config {
  std::map<std::string, std::shared_ptr<models::provider>> providers;
  config::model_settings models;
  telemetry_actor telemetry;
  /// The server's rolling budget (grove serve --budget-usd-per-day), or none.
  std::shared_ptr<journal::spend_ledger> ledger;
};

/// The only path to a model. For each request it picks the route for the
/// role and difficulty tier, then per provider: a concurrency cap (excess
/// calls queue), retries with exponential backoff that honour Retry-After,
/// fallback to the next provider, a circuit breaker (cooldown after repeated
/// failures), schema self-correction (an unusable answer is re-asked with the
/// exact validation error, counted apart), token and cost accounting per
/// provider and per job, an optional token cap per job, and spending limits
/// in money (logic/budget.hpp): before each call to a priced provider the
/// job's max_cost_usd and the server's rolling budget are checked; a call
/// they refuse fails with errc::budget, naming the limit. Error messages
/// and telemetry never carry a provider's secrets.
router_actor spawn_llm_router(caf::actor_system& sys, router_config cfg);

} // namespace grove::actors
