import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { eventCatalog, UserRegistered } from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Ending a command early: a reader that closes the pipe (`ds01 … | head -1`), Ctrl-C (SIGINT)
// during a rebuild or a follow. Real processes, real pipes, a real store.

const DS01 = join(import.meta.dirname, '..', 'bin', 'ds01.js');
/** Enough events that a rebuild takes about a second on a 2-core machine. */
const EVENTS = 30_000;
/** Events in the store when the read models were last built (the "old" read model). */
const BUILT = 10;

let dataDir: string;
let store: SqliteEventStore;

function metadata() {
  return {
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    actor: { kind: 'user' as const, name: 'admin' },
    host: 'gpu01',
    correlationId: randomUUID(),
    causationId: null,
  };
}

async function appendUsers(from: number, count: number): Promise<void> {
  for (let start = from; start < from + count; start += 500) {
    const size = Math.min(500, from + count - start);
    await store.append(
      `user-u${start}`,
      Array.from({ length: size }, (_, i) => ({
        ...UserRegistered({ user: `u${start + i}`, uid: 10_000 + start + i, group: 'students' }),
        metadata: metadata(),
      })),
    );
  }
}

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once stdout (or stderr) holds a match; fails after 20 s saying what it waited for. */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp): Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function ds01(args: string[]): Run {
  const child = spawn(process.execPath, [DS01, '--data-dir', dataDir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, COLUMNS: '' },
  });
  const text = { stdout: '', stderr: '' };
  const waiters: { stream: 'stdout' | 'stderr'; pattern: RegExp; resolve: () => void }[] = [];
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream]!.on('data', (chunk: Buffer) => {
      text[stream] += chunk.toString();
      for (const waiter of waiters.filter((w) => w.stream === stream && w.pattern.test(text[stream])))
        waiter.resolve();
    });
  }
  return {
    child,
    exit,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    waitFor: (stream, pattern) =>
      new Promise((resolve, reject) => {
        if (pattern.test(text[stream])) return resolve();
        const timer = setTimeout(
          () => reject(new Error(`no match for ${pattern} on ds01's ${stream} within 20 s: ${text[stream]}`)),
          20_000,
        );
        waiters.push({
          stream,
          pattern,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        void exit.then(({ code }) =>
          reject(new Error(`ds01 exited (${code}) before ${stream} matched ${pattern}: ${text.stderr}`)),
        );
      }),
  };
}

/** The users read model and its checkpoint, read as any reader would. */
function usersReadModel(): { rows: number; position: number } {
  const db = new DatabaseSync(join(dataDir, 'projections.db'), { readOnly: true });
  try {
    const { n } = db.prepare('SELECT count(*) AS n FROM users').get() as { n: number };
    const { position } = db.prepare("SELECT position FROM checkpoints WHERE projection = 'users'").get() as {
      position: number;
    };
    return { rows: n, position };
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ds01-stopping-'));
  store = new SqliteEventStore({ path: join(dataDir, 'events.db'), codec: eventCatalog });
  await appendUsers(0, BUILT);
  const built = ds01(['projections', 'rebuild', '--all']);
  expect((await built.exit).code).toBe(0);
  await appendUsers(BUILT, EVENTS);
}, 60_000);

afterAll(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a reader that closes the pipe', () => {
  it('`ds01 events tail | head -1` (a real shell pipe) prints one line, no stack, exit 0', async () => {
    const shell = spawn(
      'bash',
      [
        '-o',
        'pipefail',
        '-c',
        `'${process.execPath}' '${DS01}' --data-dir '${dataDir}' events tail -n 20000 --json | head -1`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    shell.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    shell.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => shell.on('exit', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout.split('\n')).toHaveLength(2);
    expect(JSON.parse(stdout)).toMatchObject({ type: 'UserRegistered' });
  });

  it('--help says which exit code means what', async () => {
    const run = ds01(['--help']);
    expect((await run.exit).code).toBe(0);
    expect(run.stdout()).toMatch(/Exit codes: 0 done \(also when the reader of the output stops early/);
    expect(run.stdout()).toMatch(/130 Ctrl-C, 143 SIGTERM/);
  });

  it('a table closed after its first line: no stack, exit 0', async () => {
    const run = ds01(['events', 'tail', '-n', '20000']);
    await run.waitFor('stdout', /\n/);
    run.child.stdout!.destroy();
    expect(await run.exit).toEqual({ code: 0, signal: null });
    expect(run.stderr()).toBe('');
  });

  it('--follow ends when its reader goes, at the next event it would print', async () => {
    const run = ds01(['events', 'tail', '--follow', '--stream', 'user-late']);
    // The header says it follows; nothing matches yet, so the next write is the new event's line.
    await run.waitFor('stdout', /^POSITION\s+TIME\s+STREAM/);
    run.child.stdout!.destroy();
    await appendUsersTo('user-late');
    expect(await run.exit).toEqual({ code: 0, signal: null });
    expect(run.stderr()).toBe('');
  });
});

describe('Ctrl-C (SIGINT)', () => {
  it('during `projections rebuild`: exit 130, and the read models are the old ones, whole', async () => {
    expect(usersReadModel()).toEqual({ rows: BUILT, position: BUILT });
    const run = ds01(['projections', 'rebuild', '--all']);
    // The first progress line comes after the first batch: the rebuild is under way.
    await run.waitFor('stderr', /^users: \d+% /m);
    run.child.kill('SIGINT');
    expect(await run.exit).toEqual({ code: 130, signal: null });
    expect(run.stderr()).toMatch(
      /\nds01: rebuild interrupted: the read models are as they were before it\n$/,
    );
    expect(run.stderr()).not.toMatch(/\n\s+at /);
    expect(usersReadModel()).toEqual({ rows: BUILT, position: BUILT });

    // Run to its end, the same rebuild replaces them with the complete new ones.
    const whole = ds01(['projections', 'rebuild', '--all']);
    expect((await whole.exit).code).toBe(0);
    const head = await store.headPosition();
    expect(usersReadModel()).toEqual({ rows: BUILT + EVENTS + 1, position: head });
  }, 60_000);

  it('during `events tail --follow`: exit 130, every line printed whole', async () => {
    const run = ds01(['events', 'tail', '--follow', '--json', '-n', '3']);
    await run.waitFor('stdout', /(.*\n){3}/);
    run.child.kill('SIGINT');
    expect(await run.exit).toEqual({ code: 130, signal: null });
    expect(run.stderr()).toBe('');
    expect(run.stdout().endsWith('\n')).toBe(true);
    for (const line of run.stdout().trimEnd().split('\n')) JSON.parse(line);
  });
});

/** One more event, on a stream of its own. */
async function appendUsersTo(stream: string): Promise<void> {
  await store.append(stream, [
    {
      ...UserRegistered({ user: 'late', uid: 9999, group: 'staff' }),
      metadata: metadata(),
    },
  ]);
}
