import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  eventCatalog,
  evolvePool,
  type GpuPoolEvent,
  gpuPoolStream,
  initialPoolState,
  type PoolState,
} from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const WORKER = join(import.meta.dirname, 'createGrantWorker.ts');
const PROCESSES = 4;
const REQUESTS = 60;

const folder = mkdtempSync(join(tmpdir(), 'ds01-create-grants-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/**
 * The gateway's allocation path raced from 4 processes on one store: grants for creates that are
 * bound, released or left to expire, snapshots every 7 events, cold allocators deciding from a
 * snapshot and the tail. Replaying the log must show no slot ever granted while held, and every
 * snapshot equal to the fold of the events before it.
 */
describe('grants for creates under concurrency, decided from snapshots', () => {
  it('never grants a held slot, and every snapshot is the state it claims', {
    timeout: 180_000,
  }, async () => {
    const storePath = join(folder, 'events.db');
    await new SqliteEventStore({ path: storePath, codec: eventCatalog }).close();
    const startAt = Date.now() + 1500;
    const outputs = await Promise.all(
      Array.from({ length: PROCESSES }, (_, worker) =>
        run(
          process.execPath,
          [WORKER, JSON.stringify({ storePath, host: 'race', startAt, worker, requests: REQUESTS })],
          { maxBuffer: 16 * 1024 * 1024 },
        ),
      ),
    );
    const lines = outputs.flatMap(({ stdout }) =>
      stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { requestId: string; fate: string; slots: string[] }),
    );
    expect(lines).toHaveLength(PROCESSES * REQUESTS);

    const store = new SqliteEventStore({ path: storePath, codec: eventCatalog, readOnly: true });
    let state: PoolState = initialPoolState();
    let snapshots = 0;
    const grantedTo = new Map<string, string[]>();
    for await (const event of store.readStream(gpuPoolStream('race'))) {
      const domainEvent = { type: event.type, data: event.data } as GpuPoolEvent;
      if (domainEvent.type === 'GpuAllocated') {
        expect(state.holdings.has(domainEvent.data.slot), `slot ${domainEvent.data.slot} granted twice`).toBe(
          false,
        );
        grantedTo.set(domainEvent.data.requestId, [
          ...(grantedTo.get(domainEvent.data.requestId) ?? []),
          domainEvent.data.slot,
        ]);
      }
      if (domainEvent.type === 'GpuPoolSnapshotTaken') {
        snapshots++;
        expect(evolvePool(initialPoolState(), domainEvent)).toEqual(state);
      }
      state = evolvePool(state, domainEvent);
    }
    await store.close();
    expect(snapshots).toBeGreaterThan(5);
    // What each process was told is what the log says.
    for (const line of lines) expect(grantedTo.get(line.requestId) ?? []).toEqual(line.slots);
    expect(lines.filter((l) => l.fate === 'bound').length).toBeGreaterThan(0);
    expect(lines.filter((l) => l.fate === 'released').length).toBeGreaterThan(0);
  });
});
