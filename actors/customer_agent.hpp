#pragma once

#include "actors/interfaces.hpp"

namespace grove::actors {

/// Request text to a validated plan, through the router (role `plan`).
/// Never writes code. Fails with `invalid_plan` when the model's answer is
/// not a valid plan or names no component.
customer_actor spawn_customer_agent(caf::actor_system& sys, router_actor router);

} // namespace grove::actors
