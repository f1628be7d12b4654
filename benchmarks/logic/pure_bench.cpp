// Micro-benchmarks of the pure functions on every component's path: the
// planner, a template, the QA gate and the page layout. Numbers, not asserts.

#include <benchmark/benchmark.h>

#include "logic/layout.hpp"
#include "logic/planner.hpp"
#include "logic/qa_rules.hpp"
#include "logic/templates.hpp"

namespace {

using namespace grove::logic;

void plan_korean_request(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(
      builtin::plan_components("대시보드 페이지와 로그인 폼, 차트, 테이블 그리고 푸터 만들어줘"));
  }
}
BENCHMARK(plan_korean_request);

void render_component(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(builtin::component_json("dashboard", builtin::render_component({"dashboard", "d"})));
  }
}
BENCHMARK(render_component);

void qa_check_artifact(benchmark::State& state) {
  auto artifact = builtin::component_json("dashboard", builtin::render_component({"dashboard", "d"}));
  for (auto _ : state) {
    benchmark::DoNotOptimize(qa::check_artifact(artifact, "dashboard"));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * artifact.size()));
}
BENCHMARK(qa_check_artifact);

void compose_page(benchmark::State& state) {
  std::vector<layout::part> parts;
  for (int i = 0; i < state.range(0); ++i) {
    auto name = std::string{"card"} + std::to_string(i);
    parts.push_back(*layout::part_from_artifact(builtin::component_json(name, builtin::render_component({name, ""}))));
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(layout::compose_page("bench", parts));
  }
}
BENCHMARK(compose_page)->Arg(2)->Arg(200);

} // namespace

BENCHMARK_MAIN();
