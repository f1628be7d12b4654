#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in their own folder, then runs one
# for a fixed time on a copy of its seed corpus (the repository's corpus is
# never written). usage: run.sh BUILD_DIR build | run.sh BUILD_DIR TARGET SECONDS
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
out="$1/fuzz-build"
if [[ "$2" == "build" ]]; then
  command -v clang++ >/dev/null || { echo "fuzz: clang++ is missing (scripts/setup.sh --tests installs it)" >&2; exit 1; }
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S "$src" -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DGROVE_FUZZ=ON "${launcher[@]}" >/dev/null
  cmake --build "$out" --target fuzz_protocol fuzz_validators -j"$(nproc)"
  exit 0
fi
target="$2"; seconds="$3"
corpus="$(mktemp -d)"
cp "$src/tests/fuzz/corpus/$target/"* "$corpus/"
log="$corpus.log"
mkdir -p "$1/fuzz-findings"
trap 'rm -rf "$corpus" "$log"' EXIT
if ! "$out/tests/fuzz/fuzz_$target" "$corpus" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$1/fuzz-findings/$target-" -print_final_stats=1 >"$log" 2>&1; then
  # The finding: what was thrown or hit, where in grove, and the input.
  grep -E "what\(\)|ERROR|runtime error|in grove::|^0x|Base64|Test unit" "$log" | head -n 40
  exit 1
fi
tail -n 6 "$log"
