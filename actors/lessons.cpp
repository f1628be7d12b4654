#include "actors/lessons.hpp"

#include <memory>

#include <caf/all.hpp>

#include "actors/caf_error.hpp"
#include "infra/journal/lessons.hpp"
#include "messages/clock.hpp"

namespace grove::actors {

namespace {

struct lessons_state {
  std::unique_ptr<journal::lesson_store> store;
  static inline const char* name = "lessons";
};

lessons_actor::behavior_type lessons(lessons_actor::stateful_pointer<lessons_state> self, std::filesystem::path repo) {
  auto opened = journal::lesson_store::open(repo);
  if (!opened) {
    self->quit(to_caf(opened.error()));
    return lessons_actor::behavior_type::make_empty_behavior();
  }
  self->state.store = std::move(*opened);
  return {
    [self](const messages::lessons_request& req) -> caf::result<std::vector<messages::lesson>> {
      auto found = self->state.store->recall(req.spec, req.limit);
      if (!found) return to_caf(found.error());
      return std::move(*found);
    },
    [self](const messages::lesson_learned& l) {
      (void)self->state.store->learn(l.kind, l.code, l.what, l.advice, messages::now_ms());
    },
    [self](const messages::lesson_outcome& o) {
      (void)self->state.store->outcome(o.ids, o.passed_first, messages::now_ms());
    },
  };
}

} // namespace

lessons_actor spawn_lessons(caf::actor_system& sys, std::filesystem::path repo) {
  return sys.spawn<caf::detached>(lessons, std::move(repo));
}

} // namespace grove::actors
