// `npm run soak -- --minutes 10`: ds01d as a real process on a fresh data dir against the test dockerd,
// under churn (several users' `ds01 gpu allocate` / `release` loops through the real CLI, busybox
// containers starting and exiting), sampled at start, after warm-up and at the end: RSS and open
// descriptors from /proc/<pid>, event-loop lag from ds01d's own `ds01d health` debug line. Fails when RSS
// (median over a window) grew >= 10% after warm-up, descriptors grew, a churn command failed, or ds01d did not stop cleanly.
// The rates are bounded (one container every 2 s, each user's loop paced): CI has 2 cores.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { eventCatalog, UserRegistered, userStream } from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';
import { ownGateway } from '../test/support/ds01d.ts';
import { describeMachine } from './lib/machine.ts';
import { type SoakCounts, type SoakSample, soakTable, soakVerdict } from './lib/soakReport.ts';

const USAGE = `Usage: npm run soak -- [--minutes N] [--users N] [--keep]

Runs ds01d for N minutes under churn and checks that it does not leak memory or descriptors.

  --minutes N   how long the churn runs (default 10; fractions allowed, 1 for a quick check)
  --users N     how many users run allocate/release loops at once (default 3)
  --keep        keep the data dir (var/soak/<time>) and ds01d's log afterwards
  -h, --help    this help

Needs the test dockerd (unix:///run/ds01-test/docker.sock with ds01-test/busybox:latest): run
scripts/test.sh once as root, which starts it. DS01_TEST_DOCKER_HOST / DS01_TEST_IMAGE point elsewhere.`;

const execFileAsync = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const DS01 = join(root, 'packages', 'cli', 'bin', 'ds01.js');
const DS01D = join(root, 'services', 'ds01d', 'bin', 'ds01d.js');
const DOCKER_HOST = process.env['DS01_TEST_DOCKER_HOST'] || 'unix:///run/ds01-test/docker.sock';
const IMAGE = process.env['DS01_TEST_IMAGE'] || 'ds01-test/busybox:latest';
const SOAK_LABEL = 'ds01.soak.run';
const HEALTH_INTERVAL_S = 5;
const DENIED_EXIT_CODE = 3;
const SETTLE_MS = 3000;

class SoakError extends Error {
  override readonly name = 'SoakError';
}

const options = (() => {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      options: {
        minutes: { type: 'string', default: '10' },
        users: { type: 'string', default: '3' },
        keep: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    console.error(`soak: ${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
})();
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
const minutes = Number(options.minutes);
const users = Number(options.users);
if (!(minutes > 0) || !Number.isInteger(users) || users < 1) {
  console.error(`soak: --minutes must be > 0 and --users a whole number >= 1\n\n${USAGE}`);
  process.exit(2);
}
const durationMs = minutes * 60_000;
// Start-up work (catch-up, switch-over, the first samples, the compile cache) settles in the first
// fifth; the leak check compares the end with the state after it.
const warmUpMs = Math.min(Math.max(durationMs / 5, 20_000), 120_000);

const runId = randomBytes(4).toString('hex');
const dataDir = join(root, 'var', 'soak', new Date().toISOString().replace(/[:.]/g, '-'));
const configDir = join(root, 'config');
const counts: SoakCounts = { allocations: 0, denials: 0, releases: 0, containers: 0, errors: 0 };
let lastHealth: SoakSample['lagMs'];
let daemon: ChildProcess | undefined;

try {
  process.exitCode = await soak();
} catch (error) {
  console.error(`soak: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  if (daemon && daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
  await removeSoakContainers();
  if (!options.keep) rmSync(dataDir, { recursive: true, force: true });
  else console.log(`kept ${dataDir} (ds01d's log: ${join(dataDir, 'ds01d.log')})`);
}

async function soak(): Promise<number> {
  await checkDocker();
  mkdirSync(dataDir, { recursive: true });
  const userNames = Array.from({ length: users }, (_, i) => `soak${i + 1}`);
  await registerUsers(userNames);

  console.log(
    `soak: ${minutes} min (warm-up ${Math.round(warmUpMs / 1000)} s), ${users} users, data dir ${dataDir}`,
  );
  const readyAt = await startDaemon();
  const pid = daemon!.pid!;
  const samples: SoakSample[] = [await sample('start', pid, readyAt)];

  const stop = new AbortController();
  const churn = Promise.all([
    ...userNames.map((user) => allocateLoop(user, stop.signal)),
    containerLoop(stop.signal),
  ]);

  // RSS swings by tens of MiB with V8's collections: the leak check compares medians over windows,
  // the first third after warm-up with the last third of the churn, not two moments.
  const windowMs = Math.max(3000, (durationMs - warmUpMs) / 3);
  await waitFor(readyAt + warmUpMs, stop.signal);
  samples.push(await sample('after warm-up', pid, readyAt, windowMs));
  const progress = setInterval(() => {
    const left = Math.max(0, Math.round((readyAt + durationMs - Date.now()) / 1000));
    console.log(
      `  ${left} s left: ${counts.allocations} allocations, ${counts.releases} releases, ${counts.containers} containers, ${counts.errors} errors`,
    );
  }, 60_000);
  await waitFor(readyAt + durationMs - windowMs, stop.signal);
  samples.push(await sample('end of the churn', pid, readyAt, windowMs));
  clearInterval(progress);
  stop.abort();
  await churn;
  // What the last commands and containers had open in flight is not a leak: let ds01d settle.
  await waitFor(Date.now() + SETTLE_MS, new AbortController().signal);
  samples.push(await sample('churn stopped', pid, readyAt));

  const exit = await stopDaemon();
  const verdict = soakVerdict({ warm: samples[1]!, end: samples[2]!, stopped: samples[3]! }, counts);
  if (exit !== 0) verdict.findings.push(`ds01d did not stop cleanly on SIGTERM: ${exit}`);

  const machine = describeMachine(dataDir);
  console.log(
    `\nds01d soak, ${minutes} min, ${users} users' allocate/release loops, one container every 2 s` +
      `\nMeasured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine.cpu}, ${machine.cores} cores, ` +
      `${machine.memory}, ${machine.os}, Node ${machine.node}, SQLite ${machine.sqlite}, disk: ${machine.disk}.\n`,
  );
  console.log(soakTable(samples));
  console.log(
    `\nchurn: ${counts.allocations} allocations, ${counts.denials} denials, ${counts.releases} releases, ` +
      `${counts.containers} containers run, ${counts.errors} errors; ` +
      `RSS after warm-up ${(verdict.rssGrowth * 100).toFixed(1)}% (limit < 10%), descriptors at the end ${verdict.fdGrowth > 0 ? `${verdict.fdGrowth} above` : 'within'} the range after warm-up`,
  );
  if (verdict.findings.length > 0) {
    console.log(`\nsoak FAILED:\n${verdict.findings.map((f) => `  - ${f}`).join('\n')}`);
    return 1;
  }
  console.log('\nsoak passed');
  return 0;
}

async function checkDocker(): Promise<void> {
  try {
    await docker(['image', 'inspect', '--format', '{{.Id}}', IMAGE]);
  } catch (error) {
    throw new SoakError(
      `the test dockerd at ${DOCKER_HOST} is not usable (${firstLine(error)}): run scripts/test.sh once as root ` +
        '(it starts the test dockerd and builds its busybox image), or set DS01_TEST_DOCKER_HOST / DS01_TEST_IMAGE',
    );
  }
}

/** The soak's users, as the lab's account sync would record them (DS01 refuses unknown users). */
async function registerUsers(names: readonly string[]): Promise<void> {
  const store = new SqliteEventStore({ path: join(dataDir, 'events.db'), codec: eventCatalog });
  try {
    for (const [i, user] of names.entries()) {
      await store.append(userStream(user), [
        {
          ...UserRegistered({ user, uid: 30_000 + i, group: 'student' }),
          metadata: {
            eventId: randomUUID(),
            occurredAt: new Date().toISOString(),
            actor: { kind: 'service', name: 'soak' },
            host: 'soak',
            correlationId: randomUUID(),
            causationId: null,
          },
        },
      ]);
    }
  } finally {
    await store.close();
  }
}

/** Starts ds01d; resolves when it logs "ds01d ready" (at most 120 s), to that moment. */
function startDaemon(): Promise<number> {
  const log = join(dataDir, 'ds01d.log');
  const out = openSync(log, 'a');
  const gateway = ownGateway();
  const child = spawn(process.execPath, [DS01D, '--data-dir', dataDir, '--config-dir', configDir], {
    env: {
      ...process.env,
      DOCKER_HOST,
      DS01_LOG_LEVEL: 'debug',
      DS01_HEALTH_INTERVAL_S: String(HEALTH_INTERVAL_S),
      // A socket path must fit in 108 bytes: the gateway's folder in the temp dir, not under the checkout.
      DS01_GATEWAY_USERS_DIR: gateway.usersDir,
    },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  child.on('exit', gateway.remove);
  daemon = child;
  const started = Date.now();
  return new Promise((resolveReady, reject) => {
    let offset = 0;
    const timer = setInterval(() => {
      let text = '';
      try {
        text = readFileSync(log, 'utf8');
      } catch {
        return;
      }
      for (const line of text.slice(offset).split('\n')) readLogLine(line);
      offset = text.lastIndexOf('\n') + 1;
      if (readyAt !== undefined && !settled) {
        settled = true;
        resolveReady(readyAt);
      }
    }, 250);
    let readyAt: number | undefined;
    let settled = false;
    const readLogLine = (line: string) => {
      if (!line.startsWith('{')) return;
      let record: { msg?: string; eventLoopLagMs?: SoakSample['lagMs'] };
      try {
        record = JSON.parse(line);
      } catch {
        return;
      }
      if (record.msg === 'ds01d ready') readyAt ??= Date.now();
      if (record.msg === 'ds01d health') lastHealth = record.eventLoopLagMs;
    };
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      if (!settled) {
        settled = true;
        reject(new SoakError(`ds01d exited (${signal ?? code}) before it was ready: see ${log}`));
      }
    });
    setTimeout(() => {
      if (!settled) {
        settled = true;
        reject(new SoakError(`ds01d did not log "ds01d ready" within 120 s of ${started}: see ${log}`));
      }
    }, 120_000).unref();
  });
}

/** SIGTERM, then its exit code (at most 30 s). */
function stopDaemon(): Promise<number | string> {
  const child = daemon!;
  return new Promise((done) => {
    const timer = setTimeout(() => done('still running 30 s after SIGTERM'), 30_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      done(signal ? `killed by ${signal}` : (code ?? 1));
    });
    child.kill('SIGTERM');
  });
}

/**
 * Readings of /proc/<pid> over `windowMs` (at least 10): RSS is their median (one can fall on a
 * collection), descriptors their range (one can be a request in flight; a leak shows in all).
 */
async function sample(label: string, pid: number, readyAt: number, windowMs = 3000): Promise<SoakSample> {
  const rss: number[] = [];
  const fds: number[] = [];
  const readings = Math.max(10, Math.round(windowMs / 1000));
  for (let i = 0; i < readings; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, windowMs / (readings - 1)));
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
    rss.push(kib * 1024);
    fds.push(readdirSync(`/proc/${pid}/fd`).length);
  }
  rss.sort((a, b) => a - b);
  const events = await ds01(['store', 'stats', '--json']).then(
    ({ stdout }) => (JSON.parse(stdout) as { store: { events: number } }).store.events,
    () => undefined,
  );
  return {
    label,
    atSeconds: (Date.now() - readyAt) / 1000,
    windowSeconds: windowMs / 1000,
    rssBytes: rss[Math.floor(rss.length / 2)]!,
    openFds: { min: Math.min(...fds), max: Math.max(...fds) },
    ...(lastHealth ? { lagMs: lastHealth } : {}),
    ...(events === undefined ? {} : { events }),
  };
}

/** One user: allocate a GPU to a (made-up) container, hold it a moment, release it; again. */
async function allocateLoop(user: string, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const container = randomBytes(32).toString('hex');
    const granted = await ds01([
      'gpu',
      'allocate',
      '--user',
      user,
      '--count',
      '1',
      '--container',
      container,
      // A made-up container DS01 never saw: root allocates for it anyway (recorded as an override).
      '--force',
    ]).then(
      () => true,
      (error: { code?: number }) => {
        if (error.code === DENIED_EXIT_CODE) counts.denials++;
        else report(`ds01 gpu allocate --user ${user}`, error);
        return false;
      },
    );
    if (granted) {
      counts.allocations++;
      await pause(500, signal);
      await ds01(['gpu', 'release', '--container', container]).then(
        () => counts.releases++,
        (error) => report(`ds01 gpu release --container ${container.slice(0, 12)}`, error),
      );
    }
    await pause(1000, signal);
  }
}

/** A busybox container every 2 s that lives a second or two (--rm: created, started, exited, removed). */
async function containerLoop(signal: AbortSignal): Promise<void> {
  const running = new Set<Promise<void>>();
  for (let i = 0; !signal.aborted; i++) {
    const run = docker([
      'run',
      '--rm',
      '--label',
      `${SOAK_LABEL}=${runId}`,
      '--name',
      `soak-${runId}-${i}`,
      IMAGE,
      'sh',
      '-c',
      `sleep ${1 + (i % 2)}`,
    ]).then(
      () => {
        counts.containers++;
      },
      (error) => report('docker run', error),
    );
    running.add(run);
    void run.finally(() => running.delete(run));
    await pause(2000, signal);
  }
  await Promise.all(running);
}

async function removeSoakContainers(): Promise<void> {
  try {
    const { stdout } = await docker(['ps', '-aq', '--filter', `label=${SOAK_LABEL}=${runId}`]);
    const ids = stdout.split('\n').filter(Boolean);
    if (ids.length > 0) await docker(['rm', '-f', ...ids]);
  } catch {
    // The dockerd is gone or was never there: nothing of the soak's is left on it to remove.
  }
}

function ds01(args: readonly string[]) {
  return execFileAsync(process.execPath, [DS01, '--data-dir', dataDir, '--config-dir', configDir, ...args], {
    timeout: 60_000,
  });
}

function docker(args: readonly string[]) {
  return execFileAsync('docker', ['-H', DOCKER_HOST, ...args], { timeout: 60_000 });
}

function report(what: string, error: unknown): void {
  counts.errors++;
  const { stderr } = error as { stderr?: string };
  console.log(`  ${what} failed: ${firstLine(stderr?.trim() ? stderr : error)}`);
}

function firstLine(value: unknown): string {
  const text = value instanceof Error ? value.message : String(value);
  return text.trim().split('\n')[0] ?? '';
}

/** Waits until `at` (an epoch ms); ds01d exiting meanwhile is a failure. */
async function waitFor(at: number, signal: AbortSignal): Promise<void> {
  while (Date.now() < at) {
    if (daemon!.exitCode !== null || daemon!.signalCode !== null) {
      throw new SoakError(
        `ds01d exited during the soak (${daemon!.signalCode ?? daemon!.exitCode}): see its log`,
      );
    }
    await pause(Math.min(1000, at - Date.now()), signal);
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    if (signal.aborted) return done();
    const timer = setTimeout(done, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        done();
      },
      { once: true },
    );
  });
}
