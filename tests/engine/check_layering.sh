#!/usr/bin/env bash
# The layering rule as a test (docs/adding.md): each folder may include only the folders listed for it. engine/ and
# kernels/ build into one library (the autograd sums and the optimisers call the elementwise and Adam kernels), so
# they may include each other; nothing below apps/ includes apps/, tools/ or tests/; data/ is engine-free.
set -euo pipefail
cd "${1:-$(dirname "$0")/../..}"
status=0
check() {  # check FOLDER ALLOWED...
  local dir=$1
  shift
  local allowed
  allowed=$(printf '%s|' "$@")
  local bad
  bad=$(grep -rnoE '#include "[a-z_]+/' "$dir" | grep -vE "#include \"(${allowed%|})/" || true)
  if [ -n "$bad" ]; then
    echo "layering: $dir/ may include only $*; found:"
    echo "$bad"
    status=1
  fi
}
check engine engine kernels
check kernels kernels engine
check losses losses kernels engine
check models models losses kernels engine
check data data
[ $status -eq 0 ] && echo "layering: engine, kernels, losses, models and data include only what they may"
exit $status
