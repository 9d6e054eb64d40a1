#!/usr/bin/env bash
# Runs one of this checkout's TypeScript entry points (bench/run.ts, bench/soak.ts, scripts/testRepeat.ts)
# with Node.js 24, whatever Node.js the system has: scripts/lib/bootstrap.sh installs Node 24 into
# .tools/node and the npm dependencies when they are missing, as scripts/start.sh does. The npm scripts
# `bench`, `soak` and `test:repeat` go through it, so they work from a fresh clone with an older Node.
#
#   scripts/node.sh bench/run.ts --quick
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: scripts/node.sh FILE.ts [ARGS...]   (runs FILE.ts with the checkout's Node 24)" >&2
  exit 2
fi

# shellcheck source=lib/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/bootstrap.sh"
ds01_bootstrap || { ds01_log "bootstrap failed (Node 24 / npm ci), see above"; exit 1; }

cd "$DS01_ROOT"
exec node "$@"
