import { expect, it } from 'vitest';
import { collect } from '../contract/eventStoreContract.ts';
import { itemAdded } from '../contract/testCatalog.ts';
import { startFixture } from './childProcess.ts';
import { describeForEachStore } from './faultTargets.ts';

interface Ack {
  streamId: string;
  ids: string[];
  nextExpectedRevision: number;
  position: number;
}

describeForEachStore('kill -9 in the middle of a stream of appends', (target) => {
  it('keeps every acknowledged event, leaves nothing half-written, and accepts new appends', async () => {
    const path = target.newLog('crash');
    const writer = startFixture('appendUntilKilled', [path]);
    await writer.waitForLine((_line) => writer.lines.length >= 150);
    writer.child.kill('SIGKILL');
    expect(await writer.exited).toBe('SIGKILL');
    // Lines read before the kill landed are acknowledgements: the store had committed them.
    const acks = writer.lines.map((line) => JSON.parse(line) as Ack);
    expect(acks.length).toBeGreaterThanOrEqual(150);

    const store = target.open(path);
    // Every row decodes (the codec validates each against its schema) and the log is in order.
    const all = await collect(store.readAll());
    const byId = new Map(all.map((event) => [event.metadata.eventId, event]));
    expect(byId.size).toBe(all.length);
    for (const ack of acks) {
      const last = byId.get(ack.ids.at(-1)!);
      expect(last, `acknowledged event ${ack.ids.at(-1)} of ${ack.streamId}`).toBeDefined();
      expect(last).toMatchObject({
        streamId: ack.streamId,
        revision: ack.nextExpectedRevision,
        position: ack.position,
      });
      for (const id of ack.ids) expect(byId.get(id)?.streamId).toBe(ack.streamId);
    }
    // Every stream is dense 0..n, and each append is whole: 1 to 5 events, all or none.
    const streams = new Set(all.map((event) => event.streamId));
    for (const streamId of streams) {
      const revisions = (await collect(store.readStream(streamId))).map((event) => event.revision);
      expect(revisions).toEqual(revisions.map((_, i) => i));
    }
    const positions = all.map((event) => event.position);
    expect(positions.every((p, i) => i === 0 || p > positions[i - 1]!)).toBe(true);
    expect(await store.countEvents()).toBe(all.length);

    const revision = await store.streamRevision('crash-0');
    const result = await store.append('crash-0', [itemAdded('after the crash')], {
      expectedRevision: revision,
    });
    expect(result.nextExpectedRevision).toBe((revision as number) + 1);
    await store.close();
  }, 60_000);
});
