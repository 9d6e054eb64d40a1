import { parseArgs } from 'node:util';
import { TestDockerUnavailableError, testDocker } from '../support/docker.ts';
import { PrivateDockerd } from '../support/privateDockerd.ts';
import { runFaults } from './harness.ts';
import { SeededRandom } from './random.ts';
import { failed, formatReport } from './report.ts';

const USAGE = `Usage: npm run faults -- [--kills N] [--seed S] [--users N] [--cli-kill-chance P] [--keep]

The crash harness: runs ds01d on a scratch data dir under load (N users' \`ds01 gpu allocate\` and
\`ds01 gpu release\` in loops, busybox containers starting and exiting on the test dockerd), SIGKILLs
it at random moments and starts it again, and SIGKILLs CLI commands mid-way now and then. After
every kill and at the end it checks that every acknowledged command is on the log exactly once
(a killed one at most once), that no GPU slot is held twice, that no Docker transition is recorded
twice and the log ends as Docker is, and that every read model equals its rebuild from position 0.
It prints a table and exits 1 if anything was lost or recorded twice.

  --kills N             ds01d kills (default 100; the test suite's short form runs 20)
  --seed S              replay a run's choices (printed at the start and in the table)
  --users N             users allocating in parallel (default 3)
  --cli-kill-chance P   chance a CLI command is killed mid-way (default 0.15)
  --keep                keep the scratch site (data dir, config) for a post-mortem
  -h, --help            this help

Needs the test dockerd (scripts/test.sh starts it; DS01_TEST_DOCKER_HOST points elsewhere).`;

/** `npm run faults`: resolves to the exit code (0 clean, 1 findings or failure, 2 bad usage). */
export async function main(argv: readonly string[]): Promise<number> {
  let flags: ReturnType<typeof parse>;
  try {
    flags = parse(argv);
  } catch (error) {
    process.stderr.write(`faults: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let td: Awaited<ReturnType<typeof testDocker>>;
  try {
    td = await testDocker();
  } catch (error) {
    if (!(error instanceof TestDockerUnavailableError)) throw error;
    process.stderr.write(`faults: ${error.message}\n`);
    return 1;
  }
  const seed = flags.seed ?? SeededRandom.newSeed();
  const replay = `npm run faults -- --seed ${seed} --kills ${flags.kills} --users ${flags.users}`;
  process.stdout.write(`crash harness: seed ${seed} (replay: ${replay})\n`);
  // A dockerd of its own, as in the suite's short form (see crashHarness.test.ts for why).
  const dockerd = new PrivateDockerd(`faults-${td.runId}`);
  await dockerd.start();
  await dockerd.loadImageFrom(td);
  const report = await runFaults({
    seed,
    kills: flags.kills,
    users: flags.users,
    cliKillChance: flags.cliKillChance,
    runMs: [200, 2500],
    dockerHost: dockerd.host,
    image: td.image,
    runId: td.runId,
    keepSite: flags.keep,
    log: (line) => process.stdout.write(`  ${line}\n`),
  }).finally(() => dockerd.destroy());
  process.stdout.write(`\n${formatReport(report, { replay })}\n`);
  return failed(report) ? 1 : 0;
}

function parse(argv: readonly string[]) {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      kills: { type: 'string', default: '100' },
      seed: { type: 'string' },
      users: { type: 'string', default: '3' },
      'cli-kill-chance': { type: 'string', default: '0.15' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  return {
    kills: wholeNumber('--kills', values.kills, 1),
    seed: values.seed === undefined ? undefined : wholeNumber('--seed', values.seed, 0),
    users: wholeNumber('--users', values.users, 1),
    cliKillChance: chance(values['cli-kill-chance']),
    keep: values.keep === true,
    help: values.help === true,
  };
}

function wholeNumber(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > 2 ** 32) {
    throw new Error(`${flag} '${text}' must be a whole number of at least ${min}`);
  }
  return value;
}

function chance(text: string): number {
  const value = Number(text);
  if (!(value >= 0 && value <= 1)) throw new Error(`--cli-kill-chance '${text}' must be between 0 and 1`);
  return value;
}
