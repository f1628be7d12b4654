#pragma once

#include "actors/interfaces.hpp"

namespace grove::actors {

/// Request text to a validated plan, through the router (role `plan`).
/// Never writes code. Fails with `invalid_plan` when the model's answer is
/// not a valid plan or names no component.
customer_actor::behavior_type customer_agent(customer_actor::pointer self, router_actor router);

} // namespace grove::actors
