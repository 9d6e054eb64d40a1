import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { eventCatalog, UserRegistered } from '@ds01/domain';
import { type NewEvent, SqliteEventStore } from '@ds01/event-store';
import { ReadModel, UserRow } from '@ds01/projections';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processExists, waitUntil } from '../../../test/support/waitUntil.ts';

const DS01D = join(import.meta.dirname, '..', 'bin', 'ds01d.js');

let dataDir: string;
const children: ChildProcess[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'ds01d-'));
});

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

interface Daemon {
  child: ChildProcess;
  /** Every stdout line so far, parsed (a line that is not JSON fails the test). */
  lines: Record<string, unknown>[];
  waitFor(message: string): Promise<Record<string, unknown>>;
  exit: Promise<number | null>;
}

function startDaemon(args: string[] = ['--data-dir', dataDir], env: NodeJS.ProcessEnv = {}): Daemon {
  const child = spawn(process.execPath, [DS01D, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // The docker watcher must never reach a real daemon from these tests.
    env: {
      ...process.env,
      DS01_LOG_LEVEL: 'info',
      DS01_EXPORTER_PORT: '0',
      DS01_GATEWAY_USERS_DIR: join(dataDir, 'gateway', 'users'),
      DOCKER_HOST: `unix://${join(dataDir, 'no-docker.sock')}`,
      ...env,
    },
  });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  const waiters: { message: string; resolve: (line: Record<string, unknown>) => void }[] = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const complete = buffer.split('\n');
    buffer = complete.pop()!;
    for (const text of complete) {
      const line = JSON.parse(text) as Record<string, unknown>;
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.message === line['msg'])) waiter.resolve(line);
    }
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    exit,
    waitFor: (message) =>
      new Promise((resolve, reject) => {
        const seen = lines.find((line) => line['msg'] === message);
        if (seen) return resolve(seen);
        waiters.push({ message, resolve });
        void exit.then((code) =>
          reject(new Error(`ds01d exited (${code}) before '${message}': ${JSON.stringify(lines)}`)),
        );
      }),
  };
}

/** A student registered by an admin at `occurredAt`. */
function registered(user: string, uid: number, occurredAt: string): NewEvent {
  return {
    ...UserRegistered({ user, uid, group: 'students' }),
    metadata: {
      eventId: randomUUID(),
      occurredAt,
      actor: { kind: 'user', name: 'admin' },
      host: 'test',
      correlationId: randomUUID(),
      causationId: null,
    },
  };
}

describe('ds01d', () => {
  it('starts on an empty data dir, logs JSON lines, and stops with exit 0 on SIGTERM', async () => {
    const daemon = startDaemon();
    const ready = await daemon.waitFor('ds01d ready');
    expect(ready).toMatchObject({ level: 'info', dataDir, store: join(dataDir, 'events.db') });
    expect(ready['head']).toEqual(expect.any(Number));
    expect(ready['projections']).toContain('users@0');
    expect(typeof ready['time']).toBe('string');
    expect(existsSync(join(dataDir, 'ds01d.pid'))).toBe(true);

    daemon.child.kill('SIGTERM');
    expect(await daemon.exit).toBe(0);
    expect(daemon.lines).toContainEqual(
      expect.objectContaining({ msg: 'ds01d stopping', reason: 'SIGTERM' }),
    );
    expect(daemon.lines.at(-1)).toMatchObject({ msg: 'ds01d stopped', level: 'info' });
    expect(existsSync(join(dataDir, 'ds01d.pid'))).toBe(false);
  });

  it('moves aside a projections.db of another DS01 version and rebuilds the read models, saying so', async () => {
    const store = new SqliteEventStore({ path: join(dataDir, 'events.db'), codec: eventCatalog });
    await store.append('user-alice', [registered('alice', 1001, '2025-04-01T09:00:00.000Z')]);
    await store.close();
    const newer = new DatabaseSync(join(dataDir, 'projections.db'));
    newer.exec('PRAGMA application_id = 1146302544; PRAGMA user_version = 99; CREATE TABLE checkpoints (x)');
    newer.close();

    const daemon = startDaemon();
    const moved = await daemon.waitFor(
      'projections database not readable by this DS01: moved aside, rebuilding every read model from the log',
    );
    expect(moved).toMatchObject({
      level: 'warn',
      reason: expect.stringMatching(/another DS01 version \(projections format 99/),
      keptAs: expect.stringMatching(/projections\.db\.replaced-/),
    });
    expect(existsSync(moved['keptAs'] as string)).toBe(true);
    await daemon.waitFor('ds01d ready');
    const readModel = new ReadModel(join(dataDir, 'projections.db'));
    try {
      expect(readModel.query(UserRow, 'SELECT * FROM users').map((row) => row.user)).toEqual(['alice']);
    } finally {
      readModel.close();
    }
    daemon.child.kill('SIGTERM');
    expect(await daemon.exit).toBe(0);
  });

  it('keeps the read models live while it runs, and stops on SIGINT too', async () => {
    const daemon = startDaemon();
    await daemon.waitFor('ds01d ready');
    const store = new SqliteEventStore({ path: join(dataDir, 'events.db'), codec: eventCatalog });
    await store.append('user-erin', [registered('erin', 1234, '2025-04-01T10:00:00.000Z')]);
    await store.close();
    const readModel = new ReadModel(join(dataDir, 'projections.db'));
    try {
      let users: UserRow[] = [];
      for (let attempt = 0; attempt < 100 && users.length === 0; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        users = readModel.query(UserRow, 'SELECT * FROM users');
      }
      expect(users).toEqual([
        expect.objectContaining({ user: 'erin', uid: 1234, registered_at: '2025-04-01T10:00:00.000Z' }),
      ]);
    } finally {
      readModel.close();
    }
    daemon.child.kill('SIGINT');
    expect(await daemon.exit).toBe(0);
    expect(daemon.lines.at(-1)).toMatchObject({ msg: 'ds01d stopped' });
  });

  it('refuses to start a second daemon on the same data dir, naming the first', async () => {
    const first = startDaemon();
    await first.waitFor('ds01d ready');
    const second = startDaemon();
    expect(await second.exit).toBe(1);
    const fatal = second.lines.at(-1)!;
    expect(fatal).toMatchObject({ level: 'fatal' });
    expect(fatal['msg']).toBe(
      `ds01d could not run: another ds01d (pid ${first.child.pid}) is running on this data dir (lock file ${join(dataDir, 'ds01d.pid')})`,
    );
    expect(fatal['hint']).toMatch(/stop it first/);
    // The first one is untouched.
    expect(existsSync(join(dataDir, 'ds01d.pid'))).toBe(true);
    first.child.kill('SIGTERM');
    expect(await first.exit).toBe(0);
  });

  it('starts, says the nvidia-smi probe timed out, and stops on SIGTERM when nvidia-smi hangs unkillably', async () => {
    // The hung nvidia-smi: it ignores SIGTERM, and leaves a process in a session of its own (out of
    // reach of the kill, as a process in uninterruptible sleep is) holding its stdout open.
    const bin = join(dataDir, 'bin');
    const configDir = join(dataDir, 'config');
    mkdirSync(bin);
    mkdirSync(configDir);
    const stuck = join(dataDir, 'stuck.pid');
    const fakes = join(dataDir, 'nvidia-smi.pid');
    writeFileSync(
      join(bin, 'nvidia-smi'),
      `#!/bin/sh\ntrap '' TERM\necho $$ >> '${fakes}'\nsetsid sleep 120 &\necho $! >> '${stuck}'\nwhile :; do sleep 0.1; done\n`,
      { mode: 0o755 },
    );
    writeFileSync(
      join(configDir, 'ds01.yaml'),
      'gpus:\n  mode: nvidia-smi\n  probe_timeout_seconds: 1\n  probe_interval_seconds: 600\n',
    );
    const daemon = startDaemon(['--data-dir', dataDir, '--config-dir', configDir], {
      PATH: `${bin}:${process.env['PATH']}`,
    });
    try {
      const failed = await daemon.waitFor(
        'GPU probe failed: nvidia-smi -L: did not finish within 1000 ms and was killed (a GPU that stopped responding?); serving the last inventory until it works again',
      );
      expect(failed).toMatchObject({ level: 'error', reason: 'timeout' });
      await daemon.waitFor('ds01d ready');
      const stopAsked = performance.now();
      daemon.child.kill('SIGTERM');
      expect(await daemon.exit).toBe(0);
      // Stopping waits on no program: well under the configured 1 s probe timeout plus start-up of nothing.
      expect(performance.now() - stopAsked).toBeLessThan(3000);
      expect(daemon.lines.at(-1)).toMatchObject({ msg: 'ds01d stopped' });
      // The SIGTERM-proof nvidia-smi itself was SIGKILLed when ds01d exited, not left running.
      for (const pid of readFileSync(fakes, 'utf8').split('\n').filter(Boolean).map(Number))
        await waitUntil(() => !processExists(pid), `the hung fake nvidia-smi (pid ${pid}) to be killed`);
    } finally {
      for (const pid of existsSync(stuck) ? readFileSync(stuck, 'utf8').split('\n').filter(Boolean) : [])
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // Already gone.
        }
    }
  });

  it('takes over a lock left by a daemon that died', async () => {
    writeFileSync(join(dataDir, 'ds01d.pid'), '999999\n'); // no such process
    const daemon = startDaemon();
    await daemon.waitFor('ds01d ready');
    daemon.child.kill('SIGTERM');
    expect(await daemon.exit).toBe(0);
  });

  it('explains itself with --help, and refuses an unknown flag', async () => {
    const help = startDaemonRaw(['--help']);
    expect(await help.exit).toBe(0);
    expect(help.stdout()).toMatch(/^Usage: ds01d \[--data-dir DIR\] \[--config-dir DIR\]/);
    const wrong = startDaemonRaw(['--data-directory', dataDir]);
    expect(await wrong.exit).toBe(2);
    expect(wrong.stderr()).toMatch(/^ds01d: Unknown option '--data-directory'/);
  });

  it('refuses a ds01.yaml that does not validate, naming file and line', async () => {
    const configDir = join(dataDir, 'config');
    rmSync(configDir, { recursive: true, force: true });
    mkdirSync(configDir);
    writeFileSync(join(configDir, 'ds01.yaml'), 'log_level: info\nhots: gpu01\n');
    const daemon = startDaemonRaw(['--data-dir', dataDir, '--config-dir', configDir]);
    expect(await daemon.exit).toBe(1);
    expect(daemon.stderr()).toBe(
      `ds01d: ${join(configDir, 'ds01.yaml')}:2:1: hots: is not a known key (did you mean 'host'?)\nhint: fix the file and run the command again\n`,
    );
  });
});

/** ds01d with its output kept as text (for runs that never get to logging). */
function startDaemonRaw(args: string[]) {
  const child = spawn(process.execPath, [DS01D, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return {
    exit: new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code))),
    stdout: () => stdout,
    stderr: () => stderr,
  };
}
