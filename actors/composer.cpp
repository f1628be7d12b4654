#include "actors/composer.hpp"

#include <chrono>
#include <cstdlib>
#include <thread>

#include <caf/all.hpp>

#include "actors/caf_error.hpp"
#include "logic/layout.hpp"
#include "actors/service_call.hpp"

namespace grove::actors {

composer_actor::behavior_type composer(composer_actor::pointer self, integrator_actor integrator) {
  return {
    [self, integrator](const messages::compose_request& req) -> caf::result<messages::compose_result> {
      std::vector<logic::layout::part> parts;
      for (auto& a : req.artifacts) {
        auto p = logic::layout::part_from_artifact(a);
        if (!p) return to_caf(p.error());
        parts.push_back(std::move(*p));
      }
      // Test hook for crash tests: hold the composition open so a kill can land inside it.
      static const long pause_ms = [] {
        const char* v = std::getenv("GROVE_TEST_COMPOSE_DELAY_MS");
        return v != nullptr ? std::strtol(v, nullptr, 10) : 0L;
      }();
      if (pause_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds{pause_ms});
      messages::commit_files_request commit;
      commit.message = "grove: compose page (" + std::to_string(parts.size()) + " components)";
      commit.files.push_back({page_path, logic::layout::compose_page(req.request, parts)});
      auto rp = self->make_response_promise<messages::compose_result>();
      ask_service(
        self, integrator, std::chrono::minutes{2}, std::move(commit),
        [self, rp](const messages::commit_files_result& r) mutable {
          rp.deliver(messages::compose_result{page_path, r.commit, r.changed});
          self->quit();
        },
        [self, rp](caf::error& err) mutable {
          rp.deliver(std::move(err));
          self->quit();
        });
      return rp;
    },
  };
}

} // namespace grove::actors
