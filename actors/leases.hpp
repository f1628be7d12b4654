#pragma once

#include <memory>

#include "actors/interfaces.hpp"

namespace grove::actors {

/// Who holds which name: kept by the node across restarts of the lease
/// actor, so a restarted table still knows the holders (their waiters are
/// answered `service_down` and ask again).
struct lease_book;

/// An empty book.
std::shared_ptr<lease_book> make_lease_book();

/// Grants component names in request order: exclusive leases one job at a
/// time; shared leases (edits) to every job asking while only shared ones
/// are held and no exclusive request waits before them, each with the
/// lowest free lane (its own worktree and branch). A job that waits for a
/// name another job holds gets it once that job lands or drops the
/// component, and then usually finds it in the cache. Holders that die lose
/// their leases. `book` (made here when null) holds the table.
lease_actor spawn_leases(caf::actor_system& sys, std::shared_ptr<lease_book> book = nullptr);

} // namespace grove::actors
