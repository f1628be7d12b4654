#include "actors/packer.hpp"

#include <optional>

#include <caf/all.hpp>

#include "infra/git/git.hpp"
#include "infra/git/pack.hpp"

namespace grove::actors {

namespace {

// Loose objects, estimated like git gc --auto: four of the 256 fan-out folders counted, scaled up.
size_t estimate_loose(const std::filesystem::path& gitdir) {
  size_t n = 0;
  for (auto* dir : {"00", "40", "80", "c0"}) {
    std::error_code ec;
    for (std::filesystem::directory_iterator it{gitdir / "objects" / dir, ec}, end; !ec && it != end;
         it.increment(ec)) {
      ++n;
    }
  }
  return n * 64;
}

struct packer_state {
  std::optional<git::repository> repo;
  static inline const char* name = "packer";
};

} // namespace

packer_actor spawn_packer(caf::local_actor* parent, std::filesystem::path repo, size_t threshold) {
  return parent->spawn<caf::detached + caf::linked>(
    [repo, threshold](packer_actor::stateful_pointer<packer_state> self) -> packer_actor::behavior_type {
      return {
        [self, repo, threshold](pack_atom) {
          auto& st = self->state;
          if (!st.repo || st.repo->outdated()) { // its own roll-ups removed packs its handle still lists
            auto opened = git::repository::open(repo);
            if (!opened) return; // the integrator reports an unusable repository
            st.repo.emplace(std::move(*opened));
          }
          if (estimate_loose(st.repo->gitdir()) < threshold) return;
          // A failure leaves every loose object in place: the next poke tries again.
          (void)git::pack_loose_objects(*st.repo, threshold / 2);
        },
      };
    });
}

} // namespace grove::actors
