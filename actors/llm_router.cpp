#include "actors/llm_router.hpp"

#include <caf/all.hpp>

#include "actors/caf_error.hpp"

namespace grove::actors {

router_actor::behavior_type llm_router(router_actor::pointer, route_table routes) {
  return {
    [routes](const messages::model_request& req) -> caf::result<messages::model_reply> {
      auto i = routes.by_role.find(req.role);
      auto& p = i != routes.by_role.end() ? i->second : routes.fallback;
      if (!p) return make_caf_error(messages::errc::model, "no provider configured for role " + req.role);
      auto reply = p->complete(req);
      if (!reply) return make_caf_error(messages::errc::model, p->name() + ": " + reply.error().message);
      return std::move(*reply);
    },
  };
}

} // namespace grove::actors
