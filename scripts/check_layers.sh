#!/usr/bin/env bash
# Checks that every #include of a project header points down the layers
# (docs/layers.md), never up, and that logic/ and infra/ stay free of CAF.
# Tests and benchmarks are held to the layer of the folder they mirror.
# usage: scripts/check_layers.sh [SOURCE_DIR]   (exit 1 and a list when broken)
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"

# Lowest first: a folder may include only folders at its own rank or lower.
layers=(messages config logic infra actors runtime app)
rank_of() {
  local i
  for i in "${!layers[@]}"; do
    if [[ "${layers[$i]}" == "$1" ]]; then
      echo "$i"
      return
    fi
  done
  echo -1
}

bad=0
report() {
  echo "layer violation: $1"
  bad=1
}

while IFS= read -r file; do
  top="${file%%/*}"
  case "$top" in
    tests | benchmarks)
      sub="${file#*/}"
      folder="${sub%%/*}"
      ;;
    *) folder="$top" ;;
  esac
  own=$(rank_of "$folder")
  [[ "$own" -ge 0 ]] || continue # tests/fakes, tests/fuzz, support: helpers of any layer
  while IFS= read -r inc; do
    target="${inc%%/*}"
    other=$(rank_of "$target")
    [[ "$other" -ge 0 ]] || continue # fakes/, support.hpp
    if [[ "$other" -gt "$own" ]]; then
      report "$file ($folder) includes $inc ($target is above it)"
    fi
  done < <(sed -n 's/^[[:space:]]*#include "\([^"]*\)".*/\1/p' "$file")
  # The layers below the actors never see CAF, whatever includes them.
  if [[ "$top" == logic || "$top" == infra ]] && grep -q '^[[:space:]]*#include <caf/' "$file"; then
    report "$file includes a CAF header ($top/ is CAF-free)"
  fi
done < <(git ls-files '*.hpp' '*.cpp' '*.in' | grep -E '^(messages|config|logic|infra|actors|runtime|app|tests|benchmarks)/')

if [[ "$bad" -ne 0 ]]; then
  exit 1
fi
echo "layers ok: every include points down (${layers[*]})"
