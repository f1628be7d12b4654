#!/usr/bin/env bash
# Runs grove's benchmark scenarios beside the reference pipeline
# (../shared/bench/reference_pipeline.py) and prints one table.
#   benchmarks/run.sh                 build Release in build-bench/, full sizes, update RESULTS.md
#   benchmarks/run.sh --smoke         small sizes, no RESULTS.md (ctest runs this)
#   benchmarks/run.sh --build-dir D   use an existing build tree
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
smoke=0
build=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --build-dir) build="$2"; shift ;;
    *) echo "usage: $0 [--smoke] [--build-dir DIR]" >&2; exit 2 ;;
  esac
  shift
done
if [[ -z "$build" ]]; then
  build="$top/build-bench"
  echo "building Release in $build ..." >&2
  cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j"$(nproc)" --target grove core_bench >/dev/null
fi
grove="$build/runtime/grove"
core_bench="$build/benchmarks/core_bench"
reference="$top/../shared/bench/reference_pipeline.py"
n=200
[[ $smoke -eq 1 ]] && n=20
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

now() { python3 -c 'import time; print(time.perf_counter())'; }

# P1 overhead: N distinct components, builtin provider, end to end with composition.
python3 - "$n" > "$tmp/plan.json" <<'PY'
import json, sys
n = int(sys.argv[1])
print(json.dumps({"session_id": "p1", "request": "benchmark", "components": [{"name": f"comp{i}"} for i in range(n)]}))
PY
echo "P1: grove build of $n components ..." >&2
t0=$(now)
"$grove" build --plan "$tmp/plan.json" --repo "$tmp/p1" -q --json > "$tmp/p1.json"
t1=$(now)
p1_grove=$(python3 -c "print(f'{$t1 - $t0:.3f}')")
p1_status=$(python3 -c "import json; print(json.load(open('$tmp/p1.json'))['status'])")
p1_ref="n/a"
if [[ -f "$reference" ]]; then
  echo "P1: reference_pipeline.py $n ..." >&2
  p1_ref=$(python3 "$reference" "$n" | python3 -c "import json,sys; print(json.load(sys.stdin)['wall_s'])")
fi
p1_ratio=$(python3 -c "r='$p1_ref'; print('n/a' if r=='n/a' else f'{float(r)/$p1_grove:.1f}x')")

# P5: actor round trips and libgit2 cost per stage.
echo "P5: core_bench ..." >&2
min_time=0.5
[[ $smoke -eq 1 ]] && min_time=0.01
"$core_bench" --benchmark_min_time=$min_time --benchmark_format=json > "$tmp/core.json" 2>/dev/null
read -r rtt add commit merge prune < <(python3 - "$tmp/core.json" <<'PY'
import json, sys
b = {x["name"].split("/")[0]: x for x in json.load(open(sys.argv[1]))["benchmarks"]}
r = b["actor_round_trips"]["round_trips_per_s"]
g = b["git_stages"]
print(f'{r:.0f} {g["add_ms"]:.2f} {g["commit_ms"]:.2f} {g["merge_ms"]:.2f} {g["prune_ms"]:.2f}')
PY
)

machine="$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, $(free -g 2>/dev/null | awk '/Mem:/{print $2}') GiB"
table=$(cat <<TABLE
| scenario | grove | reference | ratio | target |
| --- | --- | --- | --- | --- |
| P1 overhead: $n components, builtin, end to end (s) | $p1_grove ($p1_status) | $p1_ref | $p1_ratio | ≥ 30x |
| P2 latency hiding: 1000 components, 500 ms model (s) | not measured yet | | | ≤ 4 s |
| P3 peak RSS during P2 (MB) | not measured yet | | | ≤ 300 MB |
| P4 gateway: 500 WebSocket clients, p50/p99 (ms) | not measured yet | | | all answered |
| P5 actor round trips per second | $rtt | | | |
| P5 libgit2 per component: add / commit / merge / prune (ms) | $add / $commit / $merge / $prune | | | |
TABLE
)
echo "machine: $machine"
echo "$table"
if [[ $smoke -eq 0 ]]; then
  # Replace the generated block of RESULTS.md; the analysis around it stays.
  python3 - "$here/RESULTS.md" "$machine" "$table" <<'PY'
import datetime, sys
path, machine, table = sys.argv[1:4]
block = (f"<!-- run.sh: begin -->\nMeasured {datetime.date.today()} on {machine} with `benchmarks/run.sh` "
         f"(Release build).\n\n{table}\n<!-- run.sh: end -->")
try:
    text = open(path).read()
except FileNotFoundError:
    text = "# Benchmark results\n\n<!-- run.sh: begin -->\n<!-- run.sh: end -->\n"
start, end = text.find("<!-- run.sh: begin -->"), text.find("<!-- run.sh: end -->")
text = text[:start] + block + text[end + len("<!-- run.sh: end -->"):]
open(path, "w").write(text)
PY
  echo "RESULTS.md updated" >&2
fi
