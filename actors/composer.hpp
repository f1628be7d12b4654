#pragma once

#include "actors/interfaces.hpp"

namespace grove::actors {

/// Assembles a job's landed components into output/builder_output.html and
/// has the integrator commit it on `main`. Layout only. Quits after answering.
composer_actor::behavior_type composer(composer_actor::pointer self, integrator_actor integrator);

/// The page's path inside the workspace.
inline constexpr const char* page_path = "output/builder_output.html";

} // namespace grove::actors
