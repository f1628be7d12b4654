#include "actors/lessons.hpp"

#include <cstdio>
#include <memory>

#include <caf/all.hpp>

#include "actors/caf_error.hpp"
#include "infra/journal/lessons.hpp"
#include "infra/models/embedder.hpp"
#include "messages/clock.hpp"

namespace grove::actors {

namespace {

/// Lessons embedded in one recall at most (the rest in later ones): one call stays short.
constexpr size_t backfill_per_recall = 64;

struct lessons_state {
  std::unique_ptr<journal::lesson_store> store;
  std::shared_ptr<const models::embedder> embed;
  lessons_options opts;
  bool warned = false;
  static inline const char* name = "lessons";
};

using state_ptr = lessons_actor::stateful_pointer<lessons_state>;

// Recall by meaning: the new component's text and every lesson not yet
// embedded by this model go out in one call; then the nearest by cosine.
messages::result<std::vector<messages::lesson>> recall_by_meaning(lessons_state& st,
                                                                  const messages::lessons_request& req) {
  auto model = st.embed->model();
  auto missing = st.store->without_embedding(model, backfill_per_recall);
  if (!missing) return missing.error();
  std::vector<std::string> texts{journal::query_text(req.spec)};
  for (auto& m : *missing) texts.push_back(m.text);
  auto vectors = st.embed->embed(texts);
  if (!vectors) return vectors.error();
  for (size_t i = 0; i < missing->size(); ++i) {
    if (auto ok = st.store->set_embedding((*missing)[i].id, model, (*vectors)[i + 1]); !ok) return ok.error();
  }
  return st.store->recall_near(vectors->front(), model, req.limit, st.opts.min_similarity);
}

lessons_actor::behavior_type lessons(state_ptr self, std::filesystem::path repo, lessons_options opts) {
  auto opened = journal::lesson_store::open(repo);
  if (!opened) {
    self->quit(to_caf(opened.error()));
    return lessons_actor::behavior_type::make_empty_behavior();
  }
  self->state.store = std::move(*opened);
  self->state.embed = opts.embedder;
  self->state.opts = std::move(opts);
  return {
    [self](const messages::lessons_request& req) -> caf::result<std::vector<messages::lesson>> {
      auto& st = self->state;
      std::string why;
      if (st.embed) {
        auto near = recall_by_meaning(st, req);
        if (near) return std::move(*near);
        why = near.error().message.substr(0, 160);
        if (!st.warned) {
          // Once per node: the endpoint is down or misconfigured; words still find lessons.
          st.warned = true;
          std::fprintf(stderr, "grove: %s; lessons are recalled by words until it answers\n", why.c_str());
        }
      }
      auto found = st.store->recall(req.spec, req.limit);
      if (!found) return to_caf(found.error());
      if (!why.empty()) {
        for (auto& l : *found) l.matched = "words (" + why + ")";
      }
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

lessons_actor spawn_lessons(caf::actor_system& sys, std::filesystem::path repo, lessons_options opts) {
  return sys.spawn<caf::detached>(lessons, std::move(repo), std::move(opts));
}

} // namespace grove::actors
