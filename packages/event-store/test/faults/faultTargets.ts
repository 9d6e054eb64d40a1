import { afterAll, describe } from 'vitest';
import {
  describeWithPostgres,
  dropSchemas,
  logUrl,
  uniqueSchema,
} from '../../../../test/support/postgres.ts';
import { type EventStore, SqliteEventStore } from '../../src/index.ts';
import { PostgresEventStore } from '../../src/postgres/postgresEventStore.ts';
import { testCatalog } from '../contract/testCatalog.ts';
import { useTempFolder } from './tempFolder.ts';

/** A kind of store the fault suites run against: where a log lives (a fixture's argument) and how to open it. */
export interface FaultTarget {
  /** A new, empty log's target: an SQLite file's path or a postgres:// url with a schema of its own. */
  newLog(label: string): string;
  open(target: string): EventStore;
}

/** Creates the log (a file, or a schema and its tables) and closes it again. */
export async function createLog(target: FaultTarget, log: string): Promise<void> {
  const store = target.open(log);
  await store.headPosition();
  await store.close();
}

/** Declares the suite once per adapter that can run here: SQLite always, PostgreSQL with the test server. */
export function describeForEachStore(title: string, body: (target: FaultTarget) => void): void {
  describe(`${title} (SQLite)`, () => {
    const file = useTempFolder(title.replace(/\W+/g, '-').slice(0, 20));
    body({
      newLog: (label) => file(`${label}.sqlite`),
      open: (path) => new SqliteEventStore({ path, codec: testCatalog }),
    });
  });
  describeWithPostgres(`${title} (PostgreSQL)`, (url) => {
    const schemas: string[] = [];
    afterAll(() => dropSchemas(url, schemas));
    body({
      newLog: (label) => {
        const schema = uniqueSchema(label);
        schemas.push(schema);
        return logUrl(url, schema);
      },
      open: (target) => new PostgresEventStore({ url: target, codec: testCatalog }),
    });
  });
}
