import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithPostgres } from '../../../../test/support/postgres.ts';
import { PrivatePostgres } from '../../../../test/support/privatePostgres.ts';
import type { RecordedEvent } from '../../src/index.ts';
import { PostgresEventStore } from '../../src/postgres/postgresEventStore.ts';
import { collect } from '../contract/eventStoreContract.ts';
import { itemAdded, testCatalog } from '../contract/testCatalog.ts';

// A server of its own: restarting the shared test cluster would break the suites running beside this one.
describeWithPostgres('the PostgreSQL server restarted under a running store', () => {
  const server = new PrivatePostgres(`restart-${process.pid}`);
  beforeAll(() => server.create(), 120_000);
  afterAll(() => server.destroy());

  it('appends and a live subscription wait for it: nothing acknowledged is lost, nothing is recorded or delivered twice', async () => {
    const store = new PostgresEventStore({
      url: server.url,
      codec: testCatalog,
      unavailableTimeoutMs: 90_000,
      pollIntervalMs: 100,
    });
    const delivered: RecordedEvent[] = [];
    const subscription = store.subscribeToAll();
    const following = (async () => {
      for await (const event of subscription) delivered.push(event);
    })();
    const acknowledged: string[] = [];
    const revisions = new Map<string, number | 'no_stream'>();
    let stop = false;
    const appending = (async () => {
      for (let i = 0; !stop || i < 40; i++) {
        const streamId = `restart-${i % 4}`;
        const event = itemAdded(`n${i}`);
        const result = await store.append(streamId, [event], {
          expectedRevision: revisions.get(streamId) ?? 'no_stream',
        });
        revisions.set(streamId, result.nextExpectedRevision);
        acknowledged.push(event.metadata.eventId);
      }
    })();
    const waitForMore = async (count: number) => {
      const target = acknowledged.length + count;
      while (acknowledged.length < target) await new Promise((resolve) => setTimeout(resolve, 20));
    };
    await waitForMore(30);
    // A crash (no shutdown checkpoint: recovery from the WAL at the next start), then a clean restart.
    await server.stop('immediate');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await server.start();
    await waitForMore(30);
    await server.stop('fast');
    await server.start();
    await waitForMore(30);
    stop = true;
    await appending;

    const onLog = await collect(store.readAll());
    expect(onLog.map((event) => event.metadata.eventId)).toEqual(acknowledged);
    for (const [streamId, revision] of revisions) {
      const stream = await collect(store.readStream(streamId));
      expect(stream.map((event) => event.revision)).toEqual(stream.map((_, i) => i));
      expect(stream.at(-1)!.revision).toBe(revision);
    }
    const head = await store.headPosition();
    while (delivered.at(-1)?.position !== head) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(delivered.map((event) => event.position)).toEqual(onLog.map((event) => event.position));
    await subscription.close();
    await following;
    await store.close();
  }, 180_000);
});
