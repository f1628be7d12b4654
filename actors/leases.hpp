#pragma once

#include "actors/interfaces.hpp"

namespace grove::actors {

/// Grants component names one job at a time, in request order. A job that
/// waits for a name another job holds gets it once that job lands or drops
/// the component, and then usually finds it in the cache. Holders that die
/// lose their leases.
lease_actor spawn_leases(caf::actor_system& sys);

} // namespace grove::actors
