import { execFile, execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventCatalog } from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DS01_BIN } from '../../packages/cli/test/support/ds01Cli.ts';
import { WatcherCheckpoint } from '../../services/docker-watcher/src/checkpoint.ts';
import { labConfigDir, ready, runDs01, startDs01d } from '../support/ds01d.ts';
import { storeWithInventory } from '../support/recordedFacts.ts';
import { ensureTestUser, type TestUser } from '../support/users.ts';

/**
 * ds01d's data dir and the store as hostile ground (issue #16, findings 4, 7, 11): ds01d runs as
 * root, so a folder someone else may write is refused before anything is written; a link planted
 * where it writes is never written through; a mistyped --data-dir creates no second log; and what
 * an ordinary user may not read says "permission denied", not "does not exist".
 */

let root: string;
let configDir: string;
let alice: TestUser;
const NO_DOCKER = 'unix:///nonexistent.sock';

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ds01-hostile-data-'));
  chmodSync(root, 0o755);
  configDir = labConfigDir(join(root, 'config'), { host: 'gpu01' });
  alice = await ensureTestUser('alice');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs ds01d until it is ready or exits; returns its exit code (null: it ran) and its log. */
async function ds01dOn(dataDir: string): Promise<{ exit: number | null; log: string }> {
  const daemon = startDs01d({ dataDir, configDir, dockerHost: NO_DOCKER });
  try {
    await daemon.waitFor(ready, 'ds01d ready', 30_000);
    return { exit: null, log: daemon.lines.map((l) => JSON.stringify(l)).join('\n') };
  } catch {
    return { exit: await daemon.exit, log: daemon.lines.map((l) => JSON.stringify(l)).join('\n') };
  } finally {
    await daemon.stop();
  }
}

describe("ds01d's data dir (finding 4)", () => {
  it('refuses a world-writable data dir owned by another user, saying what to do; writes nothing', async () => {
    const dataDir = join(root, 'planted');
    mkdirSync(dataDir);
    chownSync(dataDir, alice.uid, alice.gid);
    chmodSync(dataDir, 0o777);
    const owned = await ds01dOn(dataDir);
    expect(owned.exit).toBe(1);
    expect(owned.log).toContain(`the data dir ${dataDir} is owned by uid ${alice.uid}, not by root`);
    expect(owned.log).toContain(`chown root: ${dataDir}`);
    chownSync(dataDir, 0, 0);
    const writable = await ds01dOn(dataDir);
    expect(writable.exit).toBe(1);
    expect(writable.log).toContain('is writable by every user (mode 0777)');
    expect(writable.log).toContain(`chmod go-w ${dataDir}`);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('refuses a data dir in a folder another user may write (they could swap it)', async () => {
    const theirs = join(root, 'theirs');
    mkdirSync(theirs);
    chownSync(theirs, alice.uid, alice.gid);
    const dataDir = join(theirs, 'data');
    const { exit, log } = await ds01dOn(dataDir);
    expect(exit).toBe(1);
    expect(log).toContain(`lies in ${theirs}, which uid ${alice.uid} owns`);
  });

  it('refuses a config dir its group may write (someone else could rewrite the limits ds01d applies)', async () => {
    const dir = labConfigDir(join(root, 'config-shared'), { host: 'gpu01' });
    chmodSync(dir, 0o775);
    const daemon = startDs01d({ dataDir: join(root, 'data-shared'), configDir: dir, dockerHost: NO_DOCKER });
    expect(await daemon.exit).toBe(1);
    const log = daemon.lines.map((l) => JSON.stringify(l)).join('\n');
    expect(log).toContain(`the config dir ${dir} is writable by its group (mode 0775)`);
  });

  it('a link planted where the checkpoint is written is replaced, never written through', () => {
    const dir = mkdtempSync(join(root, 'checkpoint-'));
    const victim = join(root, 'victim');
    writeFileSync(victim, 'root only\n', { mode: 0o600 });
    const path = join(dir, 'docker-watcher.checkpoint');
    // What c4c2b71 wrote through: <checkpoint>.<pid>.tmp, the pid read from ds01d.pid.
    symlinkSync(victim, `${path}.${process.pid}.tmp`);
    new WatcherCheckpoint(path).advance('42');
    expect(readFileSync(victim, 'utf8')).toBe('root only\n');
    expect(readFileSync(path, 'utf8')).toBe('{"timeNano":"42"}\n');
    // A checkpoint that is itself a link is refused, its target never read.
    const linked = join(dir, 'linked.checkpoint');
    symlinkSync(victim, linked);
    expect(() => new WatcherCheckpoint(linked)).toThrow(/is a symbolic link, which DS01 never writes/);
    expect(statSync(path).mode & 0o777).toBe(0o640);
  });

  it('under umask 000, everything ds01d creates is closed to others (held up)', async () => {
    const dataDir = join(root, 'umask');
    const before = process.umask(0);
    try {
      expect((await ds01dOn(dataDir)).exit).toBeNull();
    } finally {
      process.umask(before);
    }
    expect(statSync(dataDir).mode & 0o777).toBe(0o750);
    for (const name of readdirSync(dataDir)) {
      const mode = statSync(join(dataDir, name)).mode & 0o777;
      expect(mode & 0o022, `${name} ${mode.toString(8)}`).toBe(0);
      if (name !== 'ds01d.pid') expect(mode & 0o007, `${name} ${mode.toString(8)}`).toBe(0);
    }
  });
});

describe('the store from the CLI (findings 7, 11)', () => {
  it('a mistyped --data-dir refuses a write, and creates nothing', async () => {
    const real = join(root, 'real');
    mkdirSync(real, { mode: 0o750 });
    await (await storeWithInventory(real)).close();
    const typo = join(root, 'real-typo');
    const { code, stderr } = await runDs01(
      ['gpu', 'allocate', '--user', alice.name, '--profile', '1g.10gb'],
      {
        dataDir: typo,
        configDir,
      },
    );
    expect(code).toBe(1);
    expect(stderr).toContain(`no DS01 store at ${typo}/events.db; ds01d creates it; check --data-dir`);
    expect(existsSync(typo)).toBe(false);
  });

  it('a store an ordinary user may not read says permission denied and who may read it', async () => {
    const dataDir = join(root, 'private');
    mkdirSync(dataDir, { mode: 0o750 });
    const store = new SqliteEventStore({ path: join(dataDir, 'events.db'), codec: eventCatalog });
    await store.close();
    const { code, stderr } = await asUser(alice, ['--data-dir', dataDir, 'events', 'tail']);
    expect(code).toBe(1);
    expect(stderr).toContain(
      `${dataDir}/events.db: permission denied: only root and the members of group root may read ${dataDir} (mode 0750)`,
    );
    expect(stderr).not.toContain('does not exist');
  });

  it('a FIFO as data dir is said to be no folder', async () => {
    const fifo = join(root, 'fifo');
    execFileSync('mkfifo', ['--', fifo]);
    const { code, stderr } = await runDs01(['events', 'tail'], { dataDir: fifo, configDir });
    expect(code).toBe(1);
    expect(stderr).toContain(`${fifo} is not a folder`);
  });
});

/** The real `ds01` launcher run as another user (runuser), as they would run it. */
function asUser(user: TestUser, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'runuser',
      ['-u', user.name, '--', process.execPath, DS01_BIN, '--config-dir', configDir, ...args],
      { env: { ...process.env, HOME: user.home, DS01_EVENTSTORE_URL: '' }, cwd: '/' },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}
