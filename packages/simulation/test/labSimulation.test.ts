import { describe, expect, it } from 'vitest';
import { semesterRhythm, simulateLab } from '../src/labSimulation.ts';

const options = { users: 20, days: 3, seed: 5, start: new Date('2026-03-02T00:00:00Z'), host: 'sim' };

function history(seed = 5) {
  return [...simulateLab({ ...options, seed })].flatMap((b) =>
    b.events.map((e) => ({ stream: b.stream, ...e })),
  );
}

describe('lab simulation', () => {
  it('is the same history for the same seed (same ids), another for another seed', () => {
    const a = history();
    expect(history().map((e) => e.metadata.eventId)).toEqual(a.map((e) => e.metadata.eventId));
    expect(history(6).map((e) => e.metadata.eventId)).not.toEqual(a.map((e) => e.metadata.eventId));
  });

  it('records a window for each of the 28 slices every 5 minutes, and every catalog schema holds', async () => {
    const { eventCatalog } = await import('@ds01/domain');
    const events = history();
    const windows = events.filter((e) => e.type === 'GpuUsageWindowRecorded');
    expect(windows).toHaveLength(3 * 288 * 28);
    for (const e of events) expect(() => eventCatalog.encode(e.type, e.data), e.type).not.toThrow();
  });

  it('grants and releases a slice per session, never one slice twice at once, in time order', () => {
    const events = history();
    const held = new Map<string, string>();
    let last = '';
    for (const e of events.filter((x) => x.stream.startsWith('gpu-pool-'))) {
      expect(e.metadata.occurredAt >= last).toBe(true);
      last = e.metadata.occurredAt;
      const d = e.data as { slot: string; containerId: string };
      if (e.type === 'GpuAllocated') {
        expect(held.has(d.slot), `slot ${d.slot} granted twice`).toBe(false);
        held.set(d.slot, d.containerId);
      } else if (e.type === 'GpuReleased') {
        expect(held.get(d.slot)).toBe(d.containerId);
        held.delete(d.slot);
      }
    }
    expect(events.filter((e) => e.type === 'GpuAllocated').length).toBeGreaterThan(5);
  });

  it("follows the semester's rhythm: term weekdays busy, breaks and weekends quiet", () => {
    expect(semesterRhythm(new Date('2026-03-04'))).toBe(1); // a Wednesday in term
    expect(semesterRhythm(new Date('2026-06-17'))).toBeGreaterThan(1); // the rush before the end of term
    expect(semesterRhythm(new Date('2026-08-05'))).toBeLessThan(0.3); // summer break
    expect(semesterRhythm(new Date('2026-03-07'))).toBeLessThan(0.4); // a Saturday
  });
});
