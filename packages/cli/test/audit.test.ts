import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { eventCatalog } from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { history } from '../../../projections/usage/test/usageHistory.ts';
import { newDataDir, runDs01, userEvent } from './support/ds01Cli.ts';

/** A copy of a sealed data dir, to tamper with. */
function copyOf(dataDir: string): string {
  const copy = mkdtempSync(join(tmpdir(), 'ds01-audit-tampered-'));
  cpSync(dataDir, copy, { recursive: true });
  return copy;
}

/** Changes the log's file behind DS01's back, as someone with write access to it could. */
function tamper(dataDir: string, sql: string): void {
  const db = new DatabaseSync(join(dataDir, 'events.db'));
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

describe('ds01 audit', () => {
  let dataDir: string;
  const copies: string[] = [];

  beforeAll(async () => {
    dataDir = newDataDir();
    const store = new SqliteEventStore({ path: join(dataDir, 'events.db'), codec: eventCatalog });
    for (const { stream, event } of history) await store.append(stream, [userEvent(event)]);
    await store.close();
    const sealed = await runDs01(dataDir, ['audit', 'seal']);
    expect(sealed.stderr).toBe('');
    expect(sealed.stdout).toContain(
      `sealed the log up to position ${history.length} (${history.length} events)`,
    );
  });
  afterAll(() => {
    for (const dir of [dataDir, ...copies]) rmSync(dir, { recursive: true, force: true });
  });

  it('prints who asked, what was decided and why; filtered by user, slot and type', async () => {
    const alice = await runDs01(dataDir, ['audit', '--user', 'alice']);
    expect(alice.code).toBe(0);
    expect(alice.stdout).toContain('registered alice (group students, uid 1001)');
    expect(alice.stdout).toContain('granted slot 0 (full, 1 GPU) to alice for container aaaaaaaaaaaa');
    expect(alice.stdout).toContain('released slot 0 of alice');
    expect(alice.stdout).not.toContain('bob');

    const denied = JSON.parse(
      (await runDs01(dataDir, ['audit', '--type', 'GpuAllocationDenied', '--json'])).stdout,
    );
    expect(denied.rows).toHaveLength(1);
    expect(denied.rows[0]).toMatchObject({
      user: 'bob',
      actor: 'service test',
      why: 'over_quota (held=0.43 requested=1 limit=1)',
    });

    const slot = JSON.parse((await runDs01(dataDir, ['audit', '--slot', '2.0', '--json'])).stdout);
    expect(slot.rows.map((r: { type: string }) => r.type)).toEqual(['GpuAllocated']);
  });

  it('refuses an event type that does not exist, listing the ones that do', async () => {
    const result = await runDs01(dataDir, ['audit', '--type', 'GpuStolen']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("'GpuStolen' is not an event type");
  });

  it('verify: an untouched log matches its chain and seal; sealing again with nothing new seals nothing', async () => {
    const verified = await runDs01(dataDir, ['audit', 'verify']);
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain('the log matches its hash chain');
    expect((await runDs01(dataDir, ['audit', 'seal'])).stdout).toContain('nothing new to seal');
  });

  it('verify names the first event whose stored data was changed in the SQLite file', async () => {
    const copy = copyOf(dataDir);
    copies.push(copy);
    tamper(copy, `UPDATE events SET data = replace(data, '"students"', '"admin"') WHERE position = 1`);
    const result = await runDs01(copy, ['audit', 'verify', '--json']);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('position 1 (UserRegistered of user-alice) no longer matches');
    expect(JSON.parse(result.stdout).finding).toMatchObject({
      kind: 'changed',
      position: 1,
      type: 'UserRegistered',
    });
  });

  it('verify names an event removed from the file', async () => {
    const copy = copyOf(dataDir);
    copies.push(copy);
    tamper(copy, 'DELETE FROM events WHERE position = 4');
    const result = await runDs01(copy, ['audit', 'verify']);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('the log no longer has the GpuUsageWindowRecorded');
    expect(result.stderr).toContain('that was at position 4');
  });

  it('with the views rebuilt from the changed log, the seal still says the log changed, and between which positions', async () => {
    const copy = copyOf(dataDir);
    copies.push(copy);
    tamper(
      copy,
      `UPDATE events SET data = replace(data, '"over quota"', '"fine"') WHERE position = ${history.length}`,
    );
    rmSync(join(copy, 'projections.db'), { force: true });
    const result = await runDs01(copy, ['audit', 'verify']);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(
      `the chain up to position ${history.length} does not give the value sealed at position ${history.length + 1}`,
    );
    expect(result.stderr).toContain(`an event after position 0 and up to ${history.length} was changed`);
  });
});
