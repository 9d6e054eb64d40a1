#!/usr/bin/env bash
# The project's test command (README, CI): on a fresh Debian machine it installs what is missing (Node 24,
# npm dependencies, and as root the Debian packages the suites drive), starts the one dedicated test dockerd
# and the throwaway test PostgreSQL cluster, then runs `npm test` (typecheck + lint + vitest) and prints a
# one-line summary.
#
#   scripts/test.sh                     everything
#   scripts/test.sh test/docker         extra arguments go to vitest (a path, -t 'name', ...)
#
# Exit code: vitest's (or npm's when typecheck or lint failed before vitest ran).
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=lib/bootstrap.sh
source scripts/lib/bootstrap.sh
# shellcheck source=lib/services.sh
source scripts/lib/services.sh

ds01_bootstrap || { echo "ds01-tests: bootstrap failed (Node 24 / npm ci), see above" >&2; exit 1; }
ds01_services_up

# The suites must not silently skip what this command promises to test: without a usable test dockerd the
# docker suites fail, saying how to run them (see test/support/docker.ts). The same for the test PostgreSQL
# (test/support/postgres.ts).
export DS01_TEST_REQUIRE_DOCKER=1
export DS01_TEST_REQUIRE_POSTGRES=1

results_dir="${DS01_TEST_RESULTS_DIR:-test-results}"
mkdir -p "$results_dir"
results="$results_dir/vitest.json"
rm -f "$results"

npm test -- --reporter=default --reporter=json --outputFile.json="$results" "$@"
rc=$?

if [ -s "$results" ]; then
  node -e '
    const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
    const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    console.log(`ds01-tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
    // A file that fails before its tests run (an import error, a failing beforeAll) counts no failed test.
    const broken = (r.testResults ?? []).filter((f) => f.status === "failed" && f.assertionResults.every((a) => a.status !== "failed"));
    for (const f of broken) console.log(`ds01-tests: test file failed to run: ${f.name}: ${(f.message ?? "").split("\n")[0]}`);
  ' "$results"
else
  echo "ds01-tests: 0 passed, 0 failed, 0 skipped (vitest did not run: typecheck or lint failed, see above)"
fi
exit "$rc"
