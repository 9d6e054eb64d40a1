import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventCatalog, ownershipOverridesStream } from '@ds01/domain';
import { type RecordedEvent, SqliteEventStore } from '@ds01/event-store';
import { HostUserDirectory } from '@ds01/host';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDs01 as runDs01WithEnv } from '../../packages/cli/test/support/ds01Cli.ts';
import { labConfigDir, runDs01 } from '../support/ds01d.ts';
import { recordContainer, storeWithInventory } from '../support/recordedFacts.ts';
import { ensureTestUser, type TestUser } from '../support/users.ts';

/**
 * Arguments a user hands DS01 (issue #16, findings 5, 8): names never reach a program as options,
 * and `--container` must name a container of the user's. Also what held up: the actor is the real
 * uid whatever $USER says, the stream filter is a parameter, shell text is never run.
 */

let root: string;
let dataDir: string;
let configDir: string;
let alice: TestUser;
let bob: TestUser;
const BOBS = `b0b${'0'.repeat(61)}`;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ds01-hostile-args-'));
  dataDir = join(root, 'data');
  mkdirSync(dataDir);
  configDir = labConfigDir(join(root, 'config'), { host: 'gpu01' });
  [alice, bob] = [await ensureTestUser('alice'), await ensureTestUser('bob')];
  const store = await storeWithInventory(dataDir);
  await recordContainer(store, {
    id: BOBS,
    name: 'bobs-training',
    owner: { user: bob.name, rule: 'mount_path', evidence: `bind mount ${bob.home}`, verified: false },
  });
  await store.close();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ds01 = (...args: string[]) => runDs01(args, { dataDir, configDir });

async function streamOf(stream: string): Promise<RecordedEvent[]> {
  const store = new SqliteEventStore({
    path: join(dataDir, 'events.db'),
    codec: eventCatalog,
    readOnly: true,
  });
  const events: RecordedEvent[] = [];
  for await (const event of store.readStream(stream)) events.push(event);
  await store.close();
  return events;
}

describe('names handed to programs (finding 5)', () => {
  it('gpu allocate --user -rf: getent reads it as a name, never as its option', async () => {
    const { code, stderr } = await ds01('gpu', 'allocate', '--user', '-rf', '--count', '1');
    expect(code).not.toBe(0);
    expect(stderr).not.toMatch(/invalid option|getent passwd -rf/);
  });

  it("a /home/--service=nis/x in a container's labels reaches getent after --", async () => {
    // A getent in front of the real one, logging what it is asked.
    const bin = join(root, 'bin');
    mkdirSync(bin, { recursive: true });
    const log = join(root, 'getent.log');
    writeFileSync(
      join(bin, 'getent'),
      `#!/bin/sh\nprintf '%s\\n' "$*" >> ${log}\nexec /usr/bin/getent "$@"\n`,
    );
    chmodSync(join(bin, 'getent'), 0o755);
    const path = process.env['PATH'];
    process.env['PATH'] = `${bin}:${path}`;
    try {
      await new HostUserDirectory().resolve({ names: ['--service=nis', alice.name], uids: [] });
    } finally {
      process.env['PATH'] = path;
    }
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    expect(calls).toContain('passwd -- --service=nis');
    expect(calls.filter((c) => c.includes('--service') && !c.startsWith('passwd -- '))).toEqual([]);
  });

  it('shell text in a name is never run (held up)', async () => {
    const marker = join(root, 'pwned');
    await ds01('gpu', 'allocate', '--user', `$(touch ${marker})`, '--count', '1');
    await ds01('config', 'check', '--user', `\`touch ${marker}\``);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('--container (finding 8)', () => {
  it("refuses another user's container, saying whose it is and how sure DS01 is", async () => {
    const { code, stderr } = await ds01(
      'gpu',
      'allocate',
      '--user',
      alice.name,
      '--count',
      '1',
      '--container',
      BOBS,
    );
    expect(code).toBe(1);
    expect(stderr).toContain(
      `container ${BOBS.slice(0, 12)} belongs to ${bob.name} (claimed by mount: mount_path), not to ${alice.name}: no GPU was allocated`,
    );
  });

  it('refuses a container the log does not know', async () => {
    const { code, stderr } = await ds01(
      'gpu',
      'allocate',
      '--user',
      alice.name,
      '--container',
      'f'.repeat(64),
    );
    expect(code).toBe(1);
    expect(stderr).toContain('is not a container DS01 has seen');
  });

  it("root's --force allocates anyway, the override recorded first as the allocation's cause", async () => {
    const { code, stderr } = await ds01(
      'gpu',
      'allocate',
      '--user',
      alice.name,
      '--profile',
      '1g.10gb',
      '--container',
      BOBS,
      '--force',
    );
    expect(code, stderr).toBe(0);
    const [override] = await streamOf(ownershipOverridesStream);
    expect(override).toMatchObject({
      type: 'OwnershipOverridden',
      data: { containerId: BOBS, action: 'gpu-allocate', user: alice.name, owner: { user: bob.name } },
      metadata: { actor: { kind: 'user', name: 'root' } },
    });
    const granted = (await streamOf('gpu-pool-gpu01')).find((e) => e.type === 'GpuAllocated');
    expect(granted?.metadata.causationId).toBe(override!.metadata.eventId);
  });
});

describe('what held up', () => {
  it('the actor is the real uid, not $USER or $SUDO_USER', async () => {
    const args = ['--config-dir', configDir, 'gpu', 'allocate', '--user', alice.name, '--profile', '1g.10gb'];
    const env = { USER: bob.name, SUDO_USER: bob.name, LOGNAME: bob.name };
    const { code, stderr } = await runDs01WithEnv(dataDir, args, env);
    expect(code, stderr).toBe(0);
    const grants = (await streamOf('gpu-pool-gpu01')).filter((e) => e.type === 'GpuAllocated');
    expect(grants.at(-1)?.metadata.actor).toEqual({ kind: 'user', name: 'root' });
  });

  it('events tail --stream is a parameter, not SQL', async () => {
    const { code, stdout } = await ds01('events', 'tail', '--stream', `x' OR '1'='1`, '--json');
    expect(code).toBe(0);
    expect(stdout.trim()).toBe('');
  });
});
