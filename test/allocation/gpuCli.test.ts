import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  eventCatalog,
  GpuInventoryObserved,
  gpuInventoryStream,
  UserRegistered,
  userStream,
} from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordEvent } from '../../packages/allocation/test/support.ts';
import { mixedInventory } from '../../packages/domain/test/allocation/pools.ts';
import { recordContainer } from '../support/recordedFacts.ts';

/**
 * `ds01 gpu ...` end to end through the real launcher: a data dir with the store, a config dir with
 * the lab's resource limits (packages/config's ds01-infra fixture) and ds01.yaml naming the host.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const DS01 = join(ROOT, 'packages', 'cli', 'bin', 'ds01.js');
const LAB = join(ROOT, 'packages', 'config', 'test', 'fixtures', 'ds01-infra', 'lab');
const CONTAINER = `3f2a${'0'.repeat(60)}`;

let folder: string;
let dataDir: string;
let configDir: string;

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'ds01-gpu-cli-'));
  dataDir = join(folder, 'data');
  configDir = join(folder, 'config');
  mkdirSync(dataDir);
  cpSync(LAB, configDir, { recursive: true });
  writeFileSync(join(configDir, 'ds01.yaml'), 'host: gpu01\n');
  const store = new SqliteEventStore({ path: join(dataDir, 'events.db'), codec: eventCatalog });
  await recordEvent(
    store,
    gpuInventoryStream('gpu01'),
    GpuInventoryObserved({ inventory: mixedInventory, at: new Date().toISOString() }),
  );
  await recordEvent(store, userStream('ana'), UserRegistered({ user: 'ana', uid: 2001, group: 'student' }));
  // ana's container, as the docker watcher records it: --container must name one of hers.
  await recordContainer(store, {
    id: CONTAINER,
    name: 'train',
    owner: { user: 'ana', rule: 'ds01_label', evidence: 'ds01.user=ana', verified: false },
  });
  await store.close();
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function ds01(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [DS01, '--data-dir', dataDir, '--config-dir', configDir, ...args],
      { env: { ...process.env, COLUMNS: '200' } },
      (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
    );
  });
}

// Each command is a fresh node process (a second or more on a loaded machine): generous timeouts.
describe('ds01 gpu', { timeout: 180_000 }, () => {
  let grantedAt: string;
  let releasedAt: string;

  it('allocates a MIG profile to a container and says how to hand it to docker', async () => {
    const result = await ds01(
      'gpu',
      'allocate',
      '--user',
      'ana',
      '--profile',
      '3g.40gb',
      '--container',
      CONTAINER,
    );
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('granted 1 GPU slot to ana');
    expect(result.stdout).toMatch(/0\.0\s+3g\.40gb\s+0\.43\s+MIG-00000000/);
    expect(result.stdout).toContain(`docker: --gpus '"device=MIG-00000000-aaaa-bbbb-cccc-000000000000"'`);
    grantedAt = new Date().toISOString();
  });

  it('denies with exit code 3 and the reason a person can act on', async () => {
    const cap = await ds01('gpu', 'allocate', '--user', 'ana', '--count', '2', '--container', CONTAINER);
    expect(cap.code).toBe(3);
    expect(cap.stderr).toContain('at most 2 per container (max_gpu_slots_per_container)');

    const whole = await ds01('gpu', 'allocate', '--user', 'ana', '--profile', 'full', '--json');
    expect(whole.code).toBe(0);
    expect(JSON.parse(whole.stdout)).toMatchObject({
      granted: true,
      slots: [{ slot: '2', profile: 'full' }],
    });

    const quota = await ds01('gpu', 'allocate', '--user', 'ana', '--profile', 'full', '--json');
    expect(quota.code).toBe(3);
    expect(JSON.parse(quota.stdout)).toMatchObject({
      granted: false,
      reason: { code: 'over_quota', held: 1.43, requested: 1, limit: 2 },
    });
    expect(quota.stderr).toContain('ana holds 1.43 of 2 GPU-equivalents (max_gpu_equivalents)');

    const stranger = await ds01('gpu', 'allocate', '--user', 'nobody-ds01-knows', '--count', '1');
    expect(stranger.code).toBe(3);
    expect(stranger.stderr).toContain("'nobody-ds01-knows' is not a user DS01 knows");
  });

  it('shows every slot with its holder, and each user’s GPU-equivalents of their quota', async () => {
    const json = await ds01('gpu', 'status', '--json');
    expect(json.code).toBe(0);
    const status = JSON.parse(json.stdout);
    expect(status.slots).toHaveLength(10);
    expect(
      status.slots
        .filter((s: { user: string | null }) => s.user === 'ana')
        .map((s: { slot: string }) => s.slot),
    ).toEqual(['0.0', '2']);
    expect(status.users).toEqual([
      { host: 'gpu01', user: 'ana', gpu_equivalents: 1 + 3 / 7, slots: 2, quota: 2 },
    ]);
    const table = await ds01('gpu', 'status');
    expect(table.stdout).toMatch(/0\.0\s+3g\.40gb\s+0\.43\s+ana\s+3f2a00000000/);
    expect(table.stdout).toMatch(/ana\s+2\s+1\.43 of 2/);
  });

  it('releases by container id prefix, and knows afterwards who held what when', async () => {
    const released = await ds01('gpu', 'release', '--container', '3f2a');
    expect(released).toMatchObject({ code: 0, stdout: 'released slot 0.0 (ana, container 3f2a00000000)\n' });
    releasedAt = new Date().toISOString();
    const again = await ds01('gpu', 'release', '--container', '3f2a');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('hint: `ds01 gpu status` lists the containers that hold GPUs');

    const then = JSON.parse((await ds01('gpu', 'who', '--at', grantedAt, '--json')).stdout);
    expect(then.holdings.map((h: { slot: string; user: string }) => `${h.slot}:${h.user}`)).toEqual([
      '0.0:ana',
    ]);
    expect(then.holdings[0].release_reason).toBe('requested');
    const now = JSON.parse((await ds01('gpu', 'who', '--at', 'now', '--json')).stdout);
    expect(now.holdings.map((h: { slot: string }) => h.slot)).toEqual(['2']);
    const one = await ds01('gpu', 'who', '--at', releasedAt, '--slot', '0.0');
    expect(one.stdout).toContain('(no slot was held then)');
  });

  it('reproduces the same state after `ds01 projections rebuild allocation`', async () => {
    const before = JSON.parse((await ds01('gpu', 'status', '--json')).stdout);
    const history = JSON.parse((await ds01('gpu', 'who', '--at', grantedAt, '--json')).stdout);
    const rebuilt = await ds01('projections', 'rebuild', 'allocation');
    expect(rebuilt.code).toBe(0);
    expect(JSON.parse((await ds01('gpu', 'status', '--json')).stdout)).toEqual(before);
    expect(JSON.parse((await ds01('gpu', 'who', '--at', grantedAt, '--json')).stdout)).toEqual(history);
  });

  it('refuses malformed input with what to do', async () => {
    const container = await ds01('gpu', 'allocate', '--user', 'ana', '--container', 'train');
    expect(container.code).toBe(1);
    expect(container.stderr).toContain('container "train": must be a full 64-character Docker container id');
    expect(container.stderr).toContain('hint: give the full id: docker inspect --format {{.Id}} NAME');
    const at = await ds01('gpu', 'who', '--at', 'yesterday');
    expect(at.code).toBe(1);
    expect(at.stderr).toContain("--at 'yesterday' is not a moment DS01 can read");
    const both = await ds01('gpu', 'release', '--container', '3f2a', '--slot', '2');
    expect(both.stderr).toContain('give --container or --slot, not both');
  });
});
