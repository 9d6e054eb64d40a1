import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventCatalog, PolicyChanged, UserDeparted, UserRegistered } from '@ds01/domain';
import { type NewEvent, SqliteEventStore } from '@ds01/event-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const DS01 = join(ROOT, 'packages', 'cli', 'bin', 'ds01.js');
const DS01D = join(ROOT, 'services', 'ds01d', 'bin', 'ds01d.js');
const OLD_NODE = '/usr/bin/node';

let dataDir: string;
let store: SqliteEventStore;

function event(e: { type: string; data: unknown }, actor = 'alice'): NewEvent {
  return {
    ...e,
    metadata: {
      eventId: randomUUID(),
      occurredAt: new Date(Date.now() - 3 * 60_000).toISOString(),
      actor: { kind: actor === 'alice' ? 'user' : 'service', name: actor },
      host: 'gpu01',
      correlationId: randomUUID(),
      causationId: null,
    },
  };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ds01-cli-'));
  store = new SqliteEventStore({ path: join(dataDir, 'events.db'), codec: eventCatalog });
  await store.append('user-alice', [
    event(UserRegistered({ user: 'alice', uid: 1001, group: 'students' }), 'admin'),
  ]);
  await store.append('user-bob', [
    event(UserRegistered({ user: 'bob', uid: 1002, group: 'staff' }), 'admin'),
  ]);
  await store.append('policy', [
    event(PolicyChanged({ file: 'resource-limits.yaml', sha256: 'f'.repeat(64), diff: [] })),
  ]);
  await store.append('user-carol', [
    event(UserRegistered({ user: 'carol', uid: 1003, group: 'students' }), 'admin'),
  ]);
  await store.append('user-alice', [event(UserDeparted({ user: 'alice', reason: 'graduated' }), 'admin')]);
});

afterAll(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `ds01` launcher, as a user would, against the test data dir. */
async function ds01(
  args: string[],
  options: { node?: string; env?: Record<string, string> } = {},
): Promise<Result> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      options.node ?? process.execPath,
      [DS01, '--data-dir', dataDir, ...args],
      { env: { ...process.env, COLUMNS: '', ...options.env } },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Resolves with the output so far once `pattern` appears on the child's stdout. */
function waitForOutput(child: ChildProcess, pattern: RegExp): Promise<string> {
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (pattern.test(output)) resolve(output);
    });
    child.on('exit', (code) => reject(new Error(`exited (${code}) before ${pattern}: ${output}`)));
  });
}

describe('ds01 --help', () => {
  it('teaches: what DS01 is, the common tasks with examples, where things are', async () => {
    const { code, stdout } = await ds01(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('append-only log');
    expect(stdout).toContain('Common tasks:');
    expect(stdout).toMatch(/ds01 events tail --follow/);
    expect(stdout).toMatch(/data dir\s+--data-dir > \$DS01_DATA_DIR/);
    for (const group of ['events', 'store', 'projections'])
      expect(stdout).toMatch(new RegExp(`\\n  ${group}\\s`));
  });

  it('suggests the command meant on a typo, and exits non-zero', async () => {
    const { code, stderr } = await ds01(['evnts', 'tail']);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/unknown command 'evnts'.*\n?.*Did you mean events\?/s);
  });
});

describe('ds01 events tail', () => {
  it('shows the last events as a readable table', async () => {
    const { code, stdout } = await ds01(['events', 'tail']);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^POSITION\s+TIME\s+STREAM\s+TYPE\s+ACTOR\s+SUMMARY$/);
    expect(lines).toHaveLength(6);
    expect(lines[1]).toMatch(
      /^\s+1\s+3m ago\s+user-alice\s+UserRegistered\s+svc:admin\s+user=alice uid=1001 group=students$/,
    );
    expect(lines[3]).toMatch(
      /policy\s+PolicyChanged\s+alice\s+file=resource-limits.yaml sha256=ffffffffffff diff=\[\]/,
    );
  });

  it('-n, --type, --stream and --since select events; --json prints one object per line', async () => {
    const last2 = await ds01(['events', 'tail', '-n', '2', '--json']);
    const parsed = last2.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(parsed.map((e) => e.position)).toEqual([4, 5]);
    expect(parsed[1]).toMatchObject({
      type: 'UserDeparted',
      streamId: 'user-alice',
      data: { reason: 'graduated' },
    });

    const departures = await ds01(['events', 'tail', '--type', 'UserDeparted,PolicyChanged', '--json']);
    expect(
      departures.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).type),
    ).toEqual(['PolicyChanged', 'UserDeparted']);

    const alice = await ds01(['events', 'tail', '--stream', 'user-alice', '--json']);
    expect(
      alice.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).position),
    ).toEqual([1, 5]);

    const since = await ds01(['events', 'tail', '--since', '3', '--json']);
    expect(
      since.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).position),
    ).toEqual([4, 5]);
  });

  it('fits a narrow terminal', async () => {
    const { stdout } = await ds01(['events', 'tail'], { env: { COLUMNS: '70' } });
    for (const line of stdout.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(70);
  });

  it('names a mistyped event type, suggests the right one, prints no stack and exits 1', async () => {
    const { code, stdout, stderr } = await ds01(['events', 'tail', '--type', 'UserRegisterd']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(
      /^ds01: 'UserRegisterd' is not an event type \(did you mean 'UserRegistered'\?\)\nhint: event types: /,
    );
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('on a data dir without a store: a read shows nothing and how to start DS01, a write refuses (stack only with --debug)', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'ds01-empty-'));
    try {
      const read = await ds01(['--data-dir', empty, 'events', 'tail']);
      expect(read.code).toBe(0);
      expect(read.stderr).toContain('(ds01d never ran here): start DS01 with scripts/start.sh');
      const write = await ds01(['--data-dir', empty, 'gpu', 'release', '--slot', '0.0']);
      expect(write.code).toBe(1);
      expect(write.stderr).toContain(
        `no DS01 store at ${join(empty, 'events.db')}; ds01d creates it; check --data-dir`,
      );
      expect(write.stderr).not.toMatch(/\n\s+at /);
      const debug = await ds01(['--data-dir', empty, '--debug', 'gpu', 'release', '--slot', '0.0']);
      expect(debug.stderr).toMatch(/CliError: no DS01 store.*\n\s+at /);
      expect(existsSync(join(empty, 'events.db'))).toBe(false); // neither creates the log
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('rejects a bad -n with the option named', async () => {
    const { code, stderr } = await ds01(['events', 'tail', '-n', 'lots']);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/option '-n, --lines <n>' argument 'lots' is invalid/);
  });

  it('--follow prints events as they are appended, and Ctrl-C ends it (exit 130)', async () => {
    const args = ['--data-dir', dataDir, 'events', 'tail', '--follow', '--stream', 'user-dave'];
    const child = spawn(process.execPath, [DS01, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      // No event matches yet: the header says it is following; then an append must show up.
      await waitForOutput(child, /^POSITION\s+TIME\s+STREAM/);
      await store.append('user-dave', [
        event(UserRegistered({ user: 'dave', uid: 1004, group: 'staff' }), 'admin'),
      ]);
      const output = await waitForOutput(child, /user=dave/);
      expect(output.trimEnd().split('\n').at(-1)).toMatch(
        /user-dave\s+UserRegistered\s+svc:admin\s+user=dave uid=1004/,
      );
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      // Ctrl-C: 130, as a shell reports a command that SIGINT ended.
      expect(await exited).toBe(130);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('ds01 store stats and projections', () => {
  it('store stats: kind, location, counts, size, and each projection with its lag', async () => {
    const { code, stdout } = await ds01(['store', 'stats', '--json']);
    expect(code).toBe(0);
    const stats = JSON.parse(stdout);
    expect(stats.store).toMatchObject({ kind: 'sqlite', location: join(dataDir, 'events.db') });
    expect(stats.store.events).toBeGreaterThanOrEqual(5);
    expect(stats.store.headPosition).toBe(stats.store.events);
    expect(stats.store.fileBytes).toBeGreaterThan(0);
    const users = stats.projections.find((p: { name: string }) => p.name === 'users');
    expect(users).toMatchObject({ state: 'never ran', position: 0 });
    expect(users.lag).toBeGreaterThanOrEqual(4);

    const table = await ds01(['store', 'stats']);
    expect(table.stdout).toMatch(/^store:\s+sqlite /);
    expect(table.stdout).toMatch(/\nPROJECTION\s+VERSION\s+POSITION\s+LAG\s+UPDATED\s+STATE\n/);
  });

  it('projections rebuild: progress on stderr, a result table, then list shows it up to date', async () => {
    const rebuilt = await ds01(['projections', 'rebuild', 'users']);
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stderr).toMatch(/users: done, \d+ events in [\d.]+s/);
    expect(rebuilt.stdout).toMatch(/users\s+1\s+\d+\s+rebuilt/);

    const list = await ds01(['projections', 'list', '--json']);
    const users = JSON.parse(list.stdout).find((p: { name: string }) => p.name === 'users');
    expect(users).toMatchObject({ name: 'users', version: 1, storedVersion: 1, lag: 0, state: 'up to date' });
    expect(users.position).toBe(
      JSON.parse((await ds01(['store', 'stats', '--json'])).stdout).store.headPosition,
    );
  });

  it('projections rebuild asks which projection, and refuses an unknown one', async () => {
    const none = await ds01(['projections', 'rebuild']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(
      /^ds01: which projection\?\nhint: name one \(users(, \w+)*\) or give --all\n$/,
    );
    const unknown = await ds01(['projections', 'rebuild', 'usrs']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no projection is named 'usrs'\nhint: known projections: .*users/);
  });

  it('projections rebuild refuses while ds01d keeps the same data dir', async () => {
    const daemon = spawn(process.execPath, [DS01D, '--data-dir', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        DS01_EXPORTER_PORT: '0',
        DS01_GATEWAY_USERS_DIR: join(dataDir, 'gateway', 'users'),
        DOCKER_HOST: `unix://${join(dataDir, 'no-docker.sock')}`,
      },
    });
    try {
      await waitForOutput(daemon, /ds01d ready/);
      const { code, stderr } = await ds01(['projections', 'rebuild', '--all']);
      expect(code).toBe(1);
      expect(stderr).toMatch(
        new RegExp(
          `ds01d \\(pid ${daemon.pid}\\) is keeping the projections of ${dataDir} up to date\\nhint: stop ds01d`,
        ),
      );
    } finally {
      const exited = new Promise((resolve) => daemon.on('exit', resolve));
      daemon.kill('SIGTERM');
      await exited;
    }
  });
});

describe('the launcher', () => {
  const oldNodeMajor = existsSync(OLD_NODE) ? Number(nodeVersion(OLD_NODE).split('.')[0]) : 99;

  it.runIf(oldNodeMajor < 24)(
    're-executes itself with the checkout Node 24 when run by an older Node',
    async () => {
      const { code, stdout, stderr } = await ds01(['events', 'tail', '-n', '1', '--json'], {
        node: OLD_NODE,
      });
      expect(code, stderr).toBe(0);
      expect(JSON.parse(stdout)).toHaveProperty('position');
    },
  );

  it.runIf(oldNodeMajor < 24)(
    'on an older Node without .tools/node, says how to install Node 24',
    async () => {
      const fake = mkdtempSync(join(tmpdir(), 'ds01-fake-checkout-'));
      try {
        mkdirSync(join(fake, 'packages', 'cli', 'bin'), { recursive: true });
        for (const file of ['ds01.js', 'launch.js']) {
          copyFileSync(
            join(ROOT, 'packages', 'cli', 'bin', file),
            join(fake, 'packages', 'cli', 'bin', file),
          );
        }
        copyFileSync(
          join(ROOT, 'packages', 'cli', 'package.json'),
          join(fake, 'packages', 'cli', 'package.json'),
        );
        const result = await promisify(execFile)(OLD_NODE, [
          join(fake, 'packages', 'cli', 'bin', 'ds01.js'),
        ]).catch((error) => error as { code: number; stderr: string });
        expect(result).toMatchObject({ code: 1 });
        expect(result.stderr).toMatch(
          /^ds01: needs Node.js 24 or newer; this is Node v\d+.* is missing\.\n {2}Install it: cd .* && source scripts\/lib\/bootstrap.sh && ds01_bootstrap/,
        );
      } finally {
        rmSync(fake, { recursive: true, force: true });
      }
    },
  );
});

function nodeVersion(node: string): string {
  return execFileSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
}
