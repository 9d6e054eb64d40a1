// `npm run test:repeat -- --times 50 <vitest file> [-t 'name'] [--keep-going]`: runs vitest on the
// same files N times in a row, to show that a test passes every time rather than usually. Stops at
// the first failing run unless --keep-going; prints "passed/N passed" and the first lines of each
// failure; exits 1 when any run failed. Runs on Node 24 through scripts/node.sh (npm run test:repeat).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const USAGE = `Usage: npm run test:repeat -- --times N [--keep-going] <vitest file...> [-t 'test name']

Runs \`vitest run <files> [-t name]\` N times in a row and says how many runs passed.

  --times N       how many runs (default 10)
  --keep-going    run all N even after a failure (default: stop at the first failing run)
  -t NAME         only the tests whose name matches (vitest's --testNamePattern)
  -h, --help      this help

Suites that drive the test dockerd need it running (scripts/test.sh starts it, as root); without it
they fail, saying so, rather than skip.

Example: npm run test:repeat -- --times 50 services/docker-watcher/test/watcherResilience.test.ts -t 'kill'`;

const LINES_PER_FAILURE = 8;

interface Failure {
  run: number;
  lines: string[];
}

/** vitest's JSON report, the parts read here. */
interface VitestReport {
  numPassedTests?: number;
  testResults?: {
    name: string;
    status: string;
    message?: string;
    assertionResults: { fullName: string; status: string; failureMessages?: string[] }[];
  }[];
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      options: {
        times: { type: 'string', default: '10' },
        'keep-going': { type: 'boolean', default: false },
        t: { type: 'string', short: 't' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    });
  } catch (error) {
    console.error(`test:repeat: ${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
})();

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const times = Number(values.times);
if (!Number.isInteger(times) || times < 1) {
  console.error(
    `test:repeat: --times must be a whole number of runs, 1 or more (got "${values.times}")\n\n${USAGE}`,
  );
  process.exit(2);
}
if (positionals.length === 0) {
  console.error(`test:repeat: name the vitest file(s) to repeat\n\n${USAGE}`);
  process.exit(2);
}

const root = resolve(import.meta.dirname, '..');
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const reportDir = mkdtempSync(join(tmpdir(), 'ds01-test-repeat-'));
const failures: Failure[] = [];
let runs = 0;
const started = Date.now();

try {
  for (let run = 1; run <= times; run++) {
    runs = run;
    const report = join(reportDir, `run-${run}.json`);
    const runStarted = Date.now();
    const { code, output } = await runVitest([
      'run',
      ...positionals,
      ...(values.t ? ['-t', values.t] : []),
      '--reporter=dot',
      '--reporter=json',
      `--outputFile.json=${report}`,
    ]);
    const seconds = ((Date.now() - runStarted) / 1000).toFixed(1);
    const parsed = readReport(report);
    const testsPassed = parsed?.numPassedTests ?? 0;
    // vitest exits 0 when -t matches nothing: a run that tested nothing proves nothing.
    if (code === 0 && testsPassed > 0) {
      console.log(
        `run ${run}/${times}: passed, ${testsPassed} test${testsPassed === 1 ? '' : 's'} (${seconds} s)`,
      );
      continue;
    }
    const lines =
      code === 0 ? ['no test ran: check the file paths and the -t pattern'] : failureLines(parsed, output);
    failures.push({ run, lines });
    console.log(`run ${run}/${times}: FAILED (${seconds} s, exit ${code})`);
    for (const line of lines) console.log(`    ${line}`);
    if (!values['keep-going']) break;
  }
} finally {
  rmSync(reportDir, { recursive: true, force: true });
}

const passed = runs - failures.length;
const total = ((Date.now() - started) / 1000).toFixed(0);
const stopped = runs < times ? ` (stopped after run ${runs} of ${times}: --keep-going runs them all)` : '';
console.log(`\n${passed}/${runs} passed in ${total} s${stopped}`);
if (failures.length > 0) console.log(`failed runs: ${failures.map((f) => f.run).join(', ')}`);
process.exit(failures.length > 0 || runs < times ? 1 : 0);

/** Runs vitest in the checkout's root; its output is kept to show when the report says nothing. */
function runVitest(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    // A docker suite that skips for want of the test dockerd would "pass" every run: make it fail, saying why.
    const env = { ...process.env, DS01_TEST_REQUIRE_DOCKER: process.env['DS01_TEST_REQUIRE_DOCKER'] ?? '1' };
    const child = spawn(process.execPath, [vitest, ...args], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.on('close', (code, signal) => done({ code: code ?? (signal ? 128 : 1), output }));
  });
}

/** The first lines of each failed test (or of a file that failed to run), else the output's tail. */
function failureLines(report: VitestReport | undefined, output: string): string[] {
  const lines: string[] = [];
  for (const file of report?.testResults ?? []) {
    const failed = file.assertionResults.filter((a) => a.status === 'failed');
    for (const test of failed) {
      lines.push(`✗ ${test.fullName}`);
      lines.push(...firstLines(test.failureMessages?.[0] ?? '', LINES_PER_FAILURE).map((l) => `  ${l}`));
    }
    if (file.status === 'failed' && failed.length === 0) {
      lines.push(`✗ ${file.name} failed to run`);
      lines.push(...firstLines(file.message ?? '', LINES_PER_FAILURE).map((l) => `  ${l}`));
    }
  }
  if (lines.length > 0) return lines;
  return [
    '(no test failed in the report: vitest itself failed; the end of its output:)',
    ...output.trimEnd().split('\n').slice(-LINES_PER_FAILURE),
  ];
}

function readReport(path: string): VitestReport | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as VitestReport;
  } catch {
    return undefined;
  }
}

function firstLines(text: string, count: number): string[] {
  return (
    text
      .split('\n')
      .filter((line) => line.trim() !== '')
      // vitest's own frames say nothing about the failure: keep the test's.
      .filter((line) => !/^\s*at .*(node_modules|node:internal|<anonymous>)/.test(line))
      .slice(0, count)
  );
}
