import { afterAll } from 'vitest';
import { describeWithPostgres, dropSchemas, uniqueSchema } from '../../../test/support/postgres.ts';
import { PostgresEventStore } from '../src/postgres/postgresEventStore.ts';
import { describeEventStoreContract } from './contract/eventStoreContract.ts';

describeWithPostgres('PostgreSQL', (url) => {
  // One schema per log name: each test gets a fresh log, as with SQLite files.
  const schemas = new Map<string, string>();
  afterAll(() => dropSchemas(url, schemas.values()));
  describeEventStoreContract('PostgreSQL', async (codec, logName) => {
    if (!schemas.has(logName)) schemas.set(logName, uniqueSchema('contract'));
    return new PostgresEventStore({ url, codec, schema: schemas.get(logName)!, pollIntervalMs: 200 });
  });
});
