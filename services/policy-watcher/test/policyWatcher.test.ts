import { createHash } from 'node:crypto';
import {
  chownSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventCatalog, type PolicyChangedEvent, policyStream } from '@ds01/domain';
import { type RecordedEvent, SqliteEventStore } from '@ds01/event-store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PolicyWatcher, type PolicyWatcherOptions } from '../src/index.ts';

/**
 * The policy watcher on real files, a real SQLite store and real fs.watch: a valid change is
 * recorded with its diff, file, sha256 and owner; an invalid one is not applied.
 */

const FIXTURES = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'packages',
  'config',
  'test',
  'fixtures',
  'ds01-infra',
);

let root: string;
let configDir: string;
let store: SqliteEventStore;
const logs: { level: string; message: string }[] = [];
const watchers: PolicyWatcher[] = [];

const logger = {
  info: (_: object, message: string) => logs.push({ level: 'info', message }),
  warn: (_: object, message: string) => logs.push({ level: 'warn', message }),
  error: (_: object, message: string) => logs.push({ level: 'error', message }),
  debug: (_: object, message: string) => logs.push({ level: 'debug', message }),
};

function watcher(options: Partial<PolicyWatcherOptions> = {}): PolicyWatcher {
  const w = new PolicyWatcher({
    store,
    configDir,
    host: 'gpu01',
    logger,
    debounceMs: 50,
    hashCheckIntervalMs: 60_000,
    ...options,
  });
  watchers.push(w);
  return w;
}

async function policyEvents(): Promise<RecordedEvent<string, PolicyChangedEvent['data']>[]> {
  const events: RecordedEvent<string, PolicyChangedEvent['data']>[] = [];
  for await (const event of store.readStream(policyStream))
    events.push(event as RecordedEvent<string, PolicyChangedEvent['data']>);
  return events;
}

/** Waits (polling the store, up to 10 s) until the policy stream holds `count` events. */
async function untilEvents(count: number): Promise<RecordedEvent<string, PolicyChangedEvent['data']>[]> {
  for (let waited = 0; waited < 10_000; waited += 50) {
    const events = await policyEvents();
    if (events.length >= count) return events;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the policy stream did not reach ${count} events: ${JSON.stringify(await policyEvents())}`);
}

const edit = (file: string, change: (text: string) => string) =>
  writeFileSync(join(configDir, file), change(readFileSync(join(configDir, file), 'utf8')));
const sha256 = (file: string) =>
  createHash('sha256')
    .update(readFileSync(join(configDir, file)))
    .digest('hex');

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ds01-policy-'));
  configDir = join(root, 'config');
  cpSync(join(FIXTURES, 'test-fixture'), configDir, { recursive: true });
  mkdirSync(join(configDir, 'groups'));
  store = new SqliteEventStore({ path: join(root, 'events.db'), codec: eventCatalog });
  logs.length = 0;
});

afterEach(async () => {
  for (const w of watchers.splice(0)) await w.stop();
  await store.close();
  rmSync(root, { recursive: true, force: true });
});

describe('the policy watcher', () => {
  it('records the configuration it finds first, as a diff from nothing, with the files’ owner', async () => {
    const outcome = await watcher().start();
    expect(outcome.result).toBe('applied');
    const [first] = await policyEvents();
    expect(first).toMatchObject({
      type: 'PolicyChanged',
      data: {
        file: 'resource-limits.yaml',
        sha256: sha256('resource-limits.yaml'),
        changedBy: 'unknown',
        fileOwner: { uid: process.getuid!() },
      },
      metadata: { actor: { kind: 'service', name: 'policy-watcher' }, host: 'gpu01' },
    });
    expect(first!.data.diff).toContainEqual({ path: 'default_group', change: 'added', after: 'students' });
  });

  it('a valid edit, seen through fs.watch: the diff, the file, its sha256, its owner; the editor unknown', async () => {
    await watcher().start();
    edit('resource-limits.yaml', (t) =>
      t.replace('  researchers:\n    max_mig_instances: 2', '  researchers:\n    max_mig_instances: 3'),
    );
    chownSync(join(configDir, 'resource-limits.yaml'), 65534, 65534);
    const [, second] = await untilEvents(2);
    expect(second!.data).toEqual({
      file: 'resource-limits.yaml',
      sha256: sha256('resource-limits.yaml'),
      diff: [{ path: 'groups.researchers.max_mig_instances', change: 'changed', before: 2, after: 3 }],
      changedBy: 'unknown',
      fileOwner: { uid: 65534, user: 'nobody' },
    });
    expect(second!.metadata.actor).toEqual({ kind: 'service', name: 'policy-watcher' });
  });

  it('an invalid edit is not applied: errors logged, the last valid configuration stays in force', async () => {
    const w = watcher({ watchFiles: false });
    await w.start();
    edit('resource-limits.yaml', (t) => t.replace('max_cpus: 16', 'max_cpus: -16'));
    const outcome = await w.check();
    expect(outcome.result).toBe('invalid');
    const [, rejected] = await policyEvents();
    expect(rejected).toMatchObject({
      type: 'PolicyRejected',
      data: {
        files: [{ file: 'resource-limits.yaml', sha256: sha256('resource-limits.yaml') }],
        problems: [{ line: 30, column: 15, key: 'groups.researchers.max_cpus' }],
      },
    });
    expect(logs.filter((l) => l.level === 'error').map((l) => l.message)).toEqual([
      expect.stringMatching(
        /resource-limits\.yaml:30:15: groups\.researchers\.max_cpus: is negative \(-16\)/,
      ),
      'the changed resource limits are not applied: the last valid configuration stays in force',
    ]);
    expect(w.current()?.groups.find((g) => g.name === 'researchers')?.limits.values['max_cpus']).toBe(16);
    // Reported and recorded once, not at every check.
    await w.check();
    expect(logs.filter((l) => l.level === 'error')).toHaveLength(2);
    expect(await policyEvents()).toHaveLength(2);
  });

  it('a restart records nothing new; a change made while it was down is recorded at start', async () => {
    await watcher({ watchFiles: false }).start();
    expect((await watcher({ watchFiles: false }).start()).result).toBe('unchanged');
    edit('resource-limits.yaml', (t) => t.replace('default_group: students', 'default_group: researchers'));
    await watcher({ watchFiles: false }).start();
    const events = await policyEvents();
    expect(events).toHaveLength(2);
    expect(events[1]!.data.diff).toEqual([
      { path: 'default_group', change: 'changed', before: 'students', after: 'researchers' },
    ]);
  });

  it('the periodic hash check finds changes without fs.watch; members files and removals count', async () => {
    const w = watcher({ watchFiles: false, hashCheckIntervalMs: 100 });
    await w.start();
    writeFileSync(join(configDir, 'groups', 'researchers.members'), '# researchers\nana\n');
    const [, added] = await untilEvents(2);
    expect(added!.data).toMatchObject({
      file: 'groups/researchers.members',
      diff: [{ path: 'members.ana', change: 'added', after: 'researchers' }],
    });
    unlinkSync(join(configDir, 'groups', 'researchers.members'));
    const [, , removed] = await untilEvents(3);
    expect(removed!.data).toMatchObject({ file: 'groups/researchers.members', sha256: null });
    expect(removed!.data.diff).toEqual([{ path: 'members.ana', change: 'removed', before: 'researchers' }]);
    expect(removed!.metadata.actor).toEqual({ kind: 'service', name: 'policy-watcher' });
  });

  it('two files valid only together are recorded as one change; each file alone is recorded alone', async () => {
    writeFileSync(join(configDir, 'group-overrides.txt'), 'ana:students\n');
    const w = watcher({ watchFiles: false });
    await w.start();
    // File times tick coarsely (a few ms): give each write its own second, in the order made.
    let second = 1_700_000_000;
    const touched = (file: string) => utimesSync(join(configDir, file), second, second++);
    // Renaming a group needs both files: each alone names a group the other does not define.
    edit('resource-limits.yaml', (t) =>
      t.replace('default_group: students', 'default_group: pupils').replace('  students:', '  pupils:'),
    );
    touched('resource-limits.yaml');
    writeFileSync(join(configDir, 'group-overrides.txt'), 'ana:pupils\n');
    touched('group-overrides.txt');
    await w.check();
    writeFileSync(join(configDir, 'groups', 'admins.members'), 'root\n');
    touched('groups/admins.members');
    edit('group-overrides.txt', (t) => `${t}bob:admins\n`);
    touched('group-overrides.txt');
    await w.check();
    const events = await policyEvents();
    expect(events.map((e) => [e.data.file, e.data.alsoChanged?.map((a) => a.file) ?? []])).toEqual([
      ['resource-limits.yaml', ['group-overrides.txt']], // the first start: every file at once
      ['resource-limits.yaml', ['group-overrides.txt']],
      ['groups/admins.members', []],
      ['group-overrides.txt', []],
    ]);
  });

  it('a store that refuses the change is said once, then quietly retried, and recorded once it accepts', async () => {
    await watcher({ watchFiles: false }).check(); // creates the store's file and records the first policy
    const before = (await policyEvents()).length;
    edit('resource-limits.yaml', (text) => text.replace('max_cpus: 8', 'max_cpus: 7'));
    const readOnly = new SqliteEventStore({
      path: join(root, 'events.db'),
      codec: eventCatalog,
      readOnly: true,
    });
    try {
      const refusing = watcher({ store: readOnly, watchFiles: false });
      logs.length = 0;
      expect(await refusing.check()).toMatchObject({ result: 'unrecorded' });
      expect(await refusing.check()).toMatchObject({ result: 'unrecorded' });
      expect(logs.map((l) => l.level)).toEqual(['error', 'debug']);
      expect(logs[0]!.message).toMatch(
        /^could not record the resource limits in the event log; the last recorded ones stay in force: event store .* is open read-only/,
      );
    } finally {
      await readOnly.close();
    }
    expect(await watcher({ watchFiles: false }).check()).toMatchObject({ result: 'applied' });
    expect((await policyEvents()).length).toBe(before + 1);
  });
});
