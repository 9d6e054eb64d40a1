import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventCatalog, gpuPoolStream } from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';
import { afterAll, describe, expect, it } from 'vitest';
import { sevenSlicePool } from '../../packages/domain/test/allocation/pools.ts';

const run = promisify(execFile);
const WORKER = join(import.meta.dirname, 'allocateWorker.ts');
const PROCESSES = 8;
const REQUESTS = 200;
const USERS = 50;
/** Each user may hold three 1g.10gb slots (3/7 GPU-equivalents). */
const QUOTA = 3 / 7;

const folder = mkdtempSync(join(tmpdir(), 'ds01-allocation-race-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

interface WorkerLine {
  requestId: string;
  granted: boolean;
  slots: string[];
  reason: string | null;
  retries: number;
  pid: number;
}

/**
 * 200 allocate requests from 8 processes at once, through the real command path, on one SQLite store
 * file and the simulated 4-GPU pool (28 MIG slots). Optimistic concurrency on the pool stream is the
 * only coordination: no lock file, no leader.
 */
describe('allocation under concurrency', () => {
  it('grants exactly as many slots as fit, none twice, and denies the rest with a reason', {
    timeout: 120_000,
  }, async () => {
    const storePath = join(folder, 'events.db');
    // Create the store file before the race (the schema is made once).
    await new SqliteEventStore({ path: storePath, codec: eventCatalog }).close();
    const requests = Array.from({ length: REQUESTS }, (_, i) => ({
      user: `user${i % USERS}`,
      requestId: `race-${i}`,
    }));
    const startAt = Date.now() + 1500;
    const outputs = await Promise.all(
      Array.from({ length: PROCESSES }, (_, p) =>
        run(
          process.execPath,
          [
            WORKER,
            JSON.stringify({
              storePath,
              host: 'race',
              startAt,
              quota: QUOTA,
              requests: requests.filter((_, i) => i % PROCESSES === p),
            }),
          ],
          { maxBuffer: 16 * 1024 * 1024 },
        ),
      ),
    );
    const lines: WorkerLine[] = outputs.flatMap(({ stdout }) =>
      stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as WorkerLine),
    );
    expect(lines).toHaveLength(REQUESTS);
    expect(new Set(lines.map((l) => l.pid)).size).toBe(PROCESSES);
    // The processes really raced: some decisions were taken again on a newer state.
    expect(lines.some((l) => l.retries > 0)).toBe(true);

    // What the processes were told matches what the log says, and the log obeys the invariants.
    const store = new SqliteEventStore({ path: storePath, codec: eventCatalog, readOnly: true });
    const granted: Array<{ requestId: string; slot: string; user: string }> = [];
    const denied: Array<{ requestId: string; code: string; user: string }> = [];
    const heldBy = new Map<string, number>();
    for await (const event of store.readStream(gpuPoolStream('race'))) {
      if (event.type === 'GpuAllocated') {
        const d = event.data as { requestId: string; slot: string; user: string };
        granted.push(d);
        heldBy.set(d.user, (heldBy.get(d.user) ?? 0) + 1);
      } else if (event.type === 'GpuAllocationDenied') {
        const d = event.data as { requestId: string; user: string; reason: { code: string } };
        denied.push({ requestId: d.requestId, user: d.user, code: d.reason.code });
        // A quota denial is only ever given to a user who really holds their three slots.
        if (d.reason.code === 'over_quota') expect(heldBy.get(d.user)).toBe(3);
        else expect(d.reason.code).toBe('no_free_slot');
      }
    }
    await store.close();

    expect(granted).toHaveLength(sevenSlicePool.length);
    expect(new Set(granted.map((g) => g.slot)).size).toBe(sevenSlicePool.length);
    expect(denied).toHaveLength(REQUESTS - sevenSlicePool.length);
    expect(new Set([...granted, ...denied].map((d) => d.requestId)).size).toBe(REQUESTS);
    for (const count of heldBy.values()) expect(count).toBeLessThanOrEqual(3);

    const toldGranted = lines.filter((l) => l.granted);
    expect(toldGranted.map((l) => `${l.requestId}:${l.slots[0]}`).sort()).toEqual(
      granted.map((g) => `${g.requestId}:${g.slot}`).sort(),
    );
    expect(
      lines.filter((l) => !l.granted).every((l) => l.reason === 'no_free_slot' || l.reason === 'over_quota'),
    ).toBe(true);
  });
});
