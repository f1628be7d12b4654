#pragma once

#include <map>
#include <memory>
#include <string>

#include "actors/interfaces.hpp"
#include "actors/provider.hpp"

namespace grove::actors {

/// Which provider answers each role; `fallback` answers roles not listed.
struct route_table {
  std::shared_ptr<provider> fallback;
  std::map<std::string, std::shared_ptr<provider>> by_role;
};

/// The only path to a model: picks the provider for a request's role and
/// answers with its reply, or a `model` error naming the provider.
router_actor::behavior_type llm_router(router_actor::pointer self, route_table routes);

} // namespace grove::actors
