import { afterAll, describe, it } from 'vitest';
import { EventStoreDbEventStore } from '../src/eventstoredb/eventStoreDbEventStore.ts';
import { describeEventStoreContract } from './contract/eventStoreContract.ts';
import { EVENTSTOREDB_IMAGE, findEventStoreDb } from './eventStoreDb/findEventStoreDb.ts';

const server = await findEventStoreDb();

if (server.url !== undefined) {
  const { url } = server;
  afterAll(() => server.stop());
  describeEventStoreContract(
    `EventStoreDB (${server.source})`,
    async (codec) => new EventStoreDbEventStore({ url, codec }),
    // One server for every test: no fresh log per test, and ESDB has no global event-id index; it has no
    // transaction across streams either (appendMany is atomic per stream only).
    { freshLogPerName: false, eventIdsUniqueAcrossStreams: false, manyEvents: 1_200, atomicBatches: false },
  );
} else {
  // Visible in every report: a skipped suite named with the reason, never a silent pass.
  describe.skip(
    'EventStoreDB contract: skipped — no server: set DS01_EVENTSTORE_URL=esdb://host:2113?tls=false ' +
      `or make the ${EVENTSTOREDB_IMAGE.split(':')[0]} image available`,
    () => {
      it.skip(`testcontainers could not start ${EVENTSTOREDB_IMAGE}: ${server.reason}`, () => {});
    },
  );
}
