#pragma once

#include <chrono>
#include <filesystem>

#include "actors/interfaces.hpp"
#include "actors/step_watch.hpp"

namespace grove::actors {

/// What a generator needs.
struct generator_config {
  router_actor router;
  std::filesystem::path cache_dir; ///< output/components/ in the main worktree; empty on a worker node
  std::chrono::milliseconds timeout{120000};
};

/// One attempt at one component: a cache hit answers without any model call;
/// otherwise the router is asked (role `generate`) with the previous
/// rejection in the prompt. A model failure is an answer with `ok == false`,
/// not a crash. Never touches git. Quits after answering.
struct generator_state {
  step_watch watch; ///< the deadline of its model call
  static inline const char* name = "generator";
};
generator_actor::behavior_type generator(generator_actor::stateful_pointer<generator_state> self, generator_config cfg);

} // namespace grove::actors
