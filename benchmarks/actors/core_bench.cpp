// P5: message round trips between two grove actors, and the libgit2 cost of
// each component stage (add, commit, merge, prune), so the next optimisation
// is chosen from data. Numbers, not asserts.

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

#include <caf/all.hpp>

#include "messages/registry.hpp"
#include "infra/git/git.hpp"

namespace {

using ping_atom = caf::atom_constant<caf::atom("ping")>;
using echo_actor = caf::typed_actor<caf::replies_to<ping_atom, int>::with<int>>;

echo_actor::behavior_type echo(echo_actor::pointer) {
  return {[](ping_atom, int x) { return x + 1; }};
}

// A second actor drives `n` sequential request/response round trips to the echo actor.
caf::behavior driver(caf::event_based_actor* self, echo_actor peer) {
  return {
    [self, peer](int n) -> caf::result<int> {
      auto rp = self->make_response_promise<int>();
      auto left = std::make_shared<int>(n);
      auto step = std::make_shared<std::function<void(int)>>();
      *step = [self, peer, rp, left, step](int x) mutable {
        if (--*left == 0) {
          rp.deliver(x);
          return;
        }
        self->request(peer, caf::infinite, ping_atom::value, x).then([step](int y) { (*step)(y); });
      };
      self->request(peer, caf::infinite, ping_atom::value, 0).then([step](int y) { (*step)(y); });
      return rp;
    },
  };
}

void actor_round_trips(benchmark::State& state) {
  caf::actor_system_config cfg;
  grove::messages::register_messages(cfg);
  caf::actor_system sys{cfg};
  auto peer = sys.spawn(echo);
  auto drv = sys.spawn(driver, peer);
  caf::scoped_actor self{sys};
  const int n = 10000;
  for (auto _ : state) {
    self->request(drv, caf::infinite, n).receive([](int) {}, [](caf::error&) {});
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["round_trips_per_s"] =
    benchmark::Counter(static_cast<double>(state.iterations() * n), benchmark::Counter::kIsRate);
  caf::anon_send_exit(peer, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(drv, caf::exit_reason::user_shutdown);
}
BENCHMARK(actor_round_trips)->Unit(benchmark::kMillisecond)->UseRealTime();

struct temp_repo {
  std::filesystem::path dir;
  temp_repo() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "grove-bench-XXXXXX").string();
    dir = ::mkdtemp(tmpl.data());
  }
  ~temp_repo() { std::filesystem::remove_all(dir); }
};

// One component through every git stage, timed stage by stage.
void git_stages(benchmark::State& state) {
  temp_repo tmp;
  auto repo = grove::git::repository::open_or_init(tmp.dir / "ws");
  if (!repo) {
    state.SkipWithError(repo.error().message.c_str());
    return;
  }
  grove::git::main_writer writer{std::move(*repo)};
  auto other = grove::git::repository::open(tmp.dir / "ws");
  double add = 0, commit = 0, merge = 0, prune = 0;
  int i = 0;
  using clock = std::chrono::steady_clock;
  auto ms = [](clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  for (auto _ : state) {
    auto name = "comp" + std::to_string(i++);
    auto t0 = clock::now();
    auto wt = grove::git::add_worktree(*other, name, {grove::git::component_path(name)});
    auto t1 = clock::now();
    auto id = grove::git::commit_in_worktree(
      *other, *wt, {{grove::git::component_path(name), "{\"component\":\"" + name + "\"}"}}, "gen");
    auto t2 = clock::now();
    auto out = writer.merge_batch({{name, *id}});
    auto t3 = clock::now();
    if (!grove::git::remove_worktree(*other, name)) std::abort(); // a benchmark of a failing path measures nothing
    auto t4 = clock::now();
    add += ms(t1 - t0);
    commit += ms(t2 - t1);
    merge += ms(t3 - t2);
    prune += ms(t4 - t3);
    if (!out[0].ok()) state.SkipWithError(out[0].error.c_str());
  }
  auto n = static_cast<double>(state.iterations());
  state.counters["add_ms"] = add / n;
  state.counters["commit_ms"] = commit / n;
  state.counters["merge_ms"] = merge / n;
  state.counters["prune_ms"] = prune / n;
}
BENCHMARK(git_stages)->Unit(benchmark::kMillisecond)->Iterations(100);

} // namespace

BENCHMARK_MAIN();
