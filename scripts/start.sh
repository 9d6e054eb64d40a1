#!/usr/bin/env bash
# Runs DS01 from this checkout: installs Node.js 24 and the dependencies when they are missing
# (scripts/lib/bootstrap.sh), then runs the daemon in the foreground with the checkout's defaults:
# data in ./var, configuration in ./config (override with --data-dir / --config-dir or
# DS01_DATA_DIR / DS01_CONFIG_DIR). Stop it with Ctrl-C. In another terminal: `npx ds01 --help`.
#
#   scripts/start.sh                      # run DS01
#   scripts/start.sh --data-dir /tmp/ds01 # somewhere else
set -euo pipefail

# shellcheck source=lib/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/bootstrap.sh"
ds01_bootstrap

cd "$DS01_ROOT"
exec node services/ds01d/bin/ds01d.js "$@"
