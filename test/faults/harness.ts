import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkCommands } from './checks/commandsCheck.ts';
import {
  checkContainerStreams,
  checkContainersAgainstDocker,
  containersSettled,
  type DockerState,
} from './checks/containersCheck.ts';
import type { Finding } from './checks/finding.ts';
import { type LogView, readLog } from './checks/logReader.ts';
import { checkPool } from './checks/poolCheck.ts';
import { catchUpLiveCopy, compareReadModels, rebuildInto } from './checks/projectionsCheck.ts';
import { firstLine, runDs01 } from './cli.ts';
import { containerLoop, docker } from './containerLoad.ts';
import { DaemonProcess } from './daemon.ts';
import { killDaemonRepeatedly } from './killer.ts';
import { type CommandRecord, Ledger } from './ledger.ts';
import { SeededRandom } from './random.ts';
import type { FaultReport } from './report.ts';
import { createSite, removeSite, type Site } from './site.ts';
import { snapshotSite } from './snapshot.ts';
import { userLoop } from './userLoad.ts';

export interface FaultOptions {
  seed: number;
  /** ds01d SIGKILLs. */
  kills: number;
  /** Users allocating and releasing in parallel loops. */
  users: number;
  /** Chance that a CLI command is SIGKILLed mid-way. */
  cliKillChance: number;
  /** How long ds01d runs under load between kills (ms). */
  runMs: [number, number];
  /** The test dockerd (DOCKER_HOST form) and its busybox image. */
  dockerHost: string;
  image: string;
  /** Labels the run's containers (`ds01.test.run=<runId>`: cleanupTestRun removes them). */
  runId: string;
  /** Chance that a kill lands during ds01d's start-up rather than once it is ready. */
  startUpKillChance?: number;
  /** How long the end waits for ds01d to record what Docker did (ms). */
  settleMs?: number;
  /** Progress lines (a kill, a check pass). */
  log?: (line: string) => void;
  /** Keep the site's folder (data dir, config, logs) for a post-mortem. */
  keepSite?: boolean;
}

/**
 * The crash harness: ds01d under load (users' CLI allocations and releases, containers starting and
 * exiting), SIGKILLed again and again, CLI commands killed too; after each kill and at the end the
 * log and the read models are checked against what every command answered. The report's findings
 * are what went wrong: a run passes only with none.
 */
export async function runFaults(options: FaultOptions): Promise<FaultReport> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const random = new SeededRandom(options.seed);
  const site = await createSite({
    dockerHost: options.dockerHost,
    users: options.users,
    runId: options.runId,
  });
  const scratch = mkdtempSync(join(tmpdir(), 'ds01-faults-scratch-'));
  const ledger = new Ledger();
  const findings = new FindingSet();
  const daemon = new DaemonProcess(site);
  let stopping = false;
  const stopped = () => stopping;
  const loadFailures: unknown[] = [];
  const guard = (loop: Promise<void>) =>
    loop.catch((error: unknown) => {
      loadFailures.push(error);
      stopping = true;
    });
  let loops: Promise<void>[] = [];
  try {
    loops = [
      ...site.users.map((user) =>
        guard(
          userLoop(user, {
            site,
            ledger,
            random: random.fork(),
            cliKillChance: options.cliKillChance,
            cliKillWindowMs: [150, 2500],
            stopped,
          }),
        ),
      ),
      guard(containerLoop({ site, ledger, random: random.fork(), image: options.image, stopped })),
    ];
    ledger.daemonKills = await killDaemonRepeatedly({
      daemon,
      random: random.fork(),
      kills: options.kills,
      runMs: options.runMs,
      startUpKillChance: options.startUpKillChance ?? 0.25,
      startUpKillMs: [50, 1500],
      stopped,
      whileDown: async (kill) => {
        const checked = Date.now();
        findings.add(await checkPass(site, ledger, join(scratch, `kill-${kill}`)), `after kill ${kill}`);
        log(
          `kill ${kill}/${options.kills} at ${seconds(started)} s: ${ledger.acknowledged()} commands acknowledged so far, checked in ${seconds(checked)} s`,
        );
      },
    });
    stopping = true;
    await Promise.all(loops);
    if (loadFailures.length > 0) throw loadFailures[0];
    log('load stopped; ds01d starts a last time and must catch up with what Docker did');
    await daemon.start();
    // Compared once the watcher has replayed and reconciled what happened while it was down (on a loaded
    // machine that takes longer than any fixed settle time); then the log must agree within settleMs.
    await daemon.waitForMessage('reconciled Docker containers with the log', 180_000);
    const dockerStates = await dockerStatesOf(site, ledger);
    const settling = Date.now();
    await waitUntilSettled(site, ledger, dockerStates, options.settleMs ?? 30_000);
    log(`log and Docker compared after ${seconds(settling)} s; ds01d stops`);
    await daemon.stop();
    findings.add(await finalPass(site, ledger, dockerStates, join(scratch, 'final')), 'at the end');
  } catch (error) {
    await daemon.kill().catch(() => {}); // the error that got here says more
    throw error;
  } finally {
    stopping = true;
    await Promise.all(loops); // guarded: they never reject
    await removeContainers(site).catch(() => {});
    rmSync(scratch, { recursive: true, force: true });
    if (options.keepSite) {
      writeFileSync(join(site.folder, 'ds01d.log'), daemon.logs.join(''));
      log(`site kept at ${site.folder} (ds01d's output of every run in ds01d.log)`);
    } else {
      removeSite(site);
    }
  }
  return {
    seed: options.seed,
    daemonKills: ledger.daemonKills,
    cliKills: ledger.cliKills,
    acknowledged: ledger.acknowledged(),
    failed: ledger.commands.filter((c) => c.outcome === 'failed').length,
    failures: [
      ...new Set(ledger.commands.flatMap((c) => (c.error ? [`ds01 gpu ${c.kind}: ${c.error}`] : []))),
    ],
    containers: ledger.containers.size,
    findings: findings.all(),
    durationMs: Date.now() - started,
  };
}

function seconds(since: number): string {
  return ((Date.now() - since) / 1000).toFixed(1);
}

/** Checks after a kill, while ds01d is down (the CLI load goes on: checks read a snapshot). */
async function checkPass(site: Site, ledger: Ledger, folder: string): Promise<Finding[]> {
  // The answers first, then the log: every command answered by now was committed before the copy.
  const commands = ledger.commandsSoFar();
  const { dataDir } = await snapshotSite(site, folder);
  try {
    const view = await readLogOf(site, ledger, dataDir);
    await catchUpLiveCopy(dataDir);
    await rebuildInto(dataDir, 'rebuilt.db');
    return [
      ...logFindings(view, commands),
      ...compareReadModels(join(dataDir, 'projections.db'), join(dataDir, 'rebuilt.db')),
    ];
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * At the end, ds01d stopped: the same checks, the log against Docker for every harness container,
 * and the read models against a rebuild by `ds01 projections rebuild --all` in a scratch copy.
 */
async function finalPass(
  site: Site,
  ledger: Ledger,
  dockerStates: Map<string, DockerState>,
  folder: string,
): Promise<Finding[]> {
  const { dataDir } = await snapshotSite(site, folder);
  const view = await readLogOf(site, ledger, dataDir);
  await catchUpLiveCopy(dataDir);
  const rebuiltDir = join(folder, 'rebuilt');
  mkdirSync(rebuiltDir);
  for (const file of ['events.db', 'projections.db']) cpSync(join(dataDir, file), join(rebuiltDir, file));
  const rebuild = await runDs01({ ...site, dataDir: rebuiltDir }, [
    'projections',
    'rebuild',
    '--all',
    '--json',
  ]);
  if (rebuild.code !== 0) {
    throw new Error(`ds01 projections rebuild --all failed (${rebuild.code}): ${firstLine(rebuild.stderr)}`);
  }
  return [
    ...logFindings(view, ledger.commands),
    ...withHistoryGaps(checkContainersAgainstDocker(view.containers, dockerStates), view),
    ...compareReadModels(join(dataDir, 'projections.db'), join(rebuiltDir, 'projections.db')),
  ];
}

/**
 * A container lost while ds01d was down may have fallen out of Docker's ring of 256 events (DS01 then
 * says so on the log): each such finding names the gaps the log records, to tell that case from a bug.
 */
function withHistoryGaps(findings: Finding[], view: LogView): Finding[] {
  if (view.historyMissed.length === 0) return findings;
  const gaps = view.historyMissed
    .map((e) => {
      const { from, until } = e.data as { from: string; until: string };
      return `${from}..${until}`;
    })
    .join(', ');
  return findings.map((f) => ({ ...f, detail: `${f.detail}; Docker history missed on the log: ${gaps}` }));
}

function logFindings(view: LogView, commands: readonly CommandRecord[]): Finding[] {
  return [
    ...checkCommands(view.pool, commands),
    ...checkPool(view.pool),
    ...checkContainerStreams(view.containers),
  ];
}

function readLogOf(site: Site, ledger: Ledger, dataDir: string): Promise<LogView> {
  return readLog(dataDir, {
    host: site.host,
    containerIds: ledger.containers.keys(),
    runLabel: site.containerLabels[1]!,
  });
}

/** Docker's word on every harness container: its state, or gone. */
async function dockerStatesOf(site: Site, ledger: Ledger): Promise<Map<string, DockerState>> {
  const listed = await docker(site, [
    'ps',
    '-a',
    '--no-trunc',
    '--filter',
    `label=${site.containerLabels[1]}`,
    '--format',
    '{{.ID}} {{.State}}',
  ]);
  const states = new Map<string, DockerState>();
  for (const id of ledger.containers.keys()) states.set(id, 'gone');
  for (const line of listed.split('\n').filter(Boolean)) {
    const [id, state] = line.split(' ') as [string, string];
    states.set(id, state === 'running' || state === 'created' ? state : 'exited');
  }
  return states;
}

/** Waits until the log says what Docker says of every container (or the deadline: then the final pass says what differs). */
async function waitUntilSettled(
  site: Site,
  ledger: Ledger,
  dockerStates: Map<string, DockerState>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Containers still running at the end exit within seconds (sleep 2 at most): wait for Docker too.
    const fresh = await dockerStatesOf(site, ledger);
    for (const [id, state] of fresh) dockerStates.set(id, state);
    const running = [...fresh.values()].some((state) => state === 'running');
    const view = await readLog(site.dataDir, {
      host: site.host,
      containerIds: ledger.containers.keys(),
      runLabel: site.containerLabels[1]!,
    });
    if (!running && containersSettled(view.containers, dockerStates)) return;
    if (Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function removeContainers(site: Site): Promise<void> {
  const ids = (await docker(site, ['ps', '-aq', '--filter', `label=${site.containerLabels[1]}`]))
    .split('\n')
    .filter(Boolean);
  if (ids.length > 0) await docker(site, ['rm', '-f', ...ids]);
}

/** Findings of every pass; one already found by an earlier pass is kept once, with its first pass. */
class FindingSet {
  readonly #byKey = new Map<string, Finding>();

  add(findings: readonly Finding[], when: string): void {
    for (const finding of findings) {
      // A projection mismatch is a fact of its pass; a duplicate on the log stays found in every later one.
      const key =
        finding.kind === 'projection mismatch'
          ? `${when} ${finding.detail}`
          : `${finding.kind} ${stableKey(finding)}`;
      if (!this.#byKey.has(key)) this.#byKey.set(key, { ...finding, when });
    }
  }

  all(): Finding[] {
    return [...this.#byKey.values()];
  }
}

/** The part of a finding's text that names what it is about (before the stream, which grows). */
function stableKey(finding: Finding): string {
  return finding.detail.split('; its stream:')[0]!;
}
