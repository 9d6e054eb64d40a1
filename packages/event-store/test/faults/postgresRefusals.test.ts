import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { describeWithPostgres, dropSchemas, uniqueSchema } from '../../../../test/support/postgres.ts';
import { StoreUnavailableError } from '../../src/index.ts';
import { PostgresEventStore } from '../../src/postgres/postgresEventStore.ts';
import { itemAdded, testCatalog } from '../contract/testCatalog.ts';

describeWithPostgres('a PostgreSQL log DS01 cannot use', (url) => {
  const schemas: string[] = [];
  afterAll(() => dropSchemas(url, schemas));

  it('a server that cannot be reached: StoreUnavailableError saying what to check, after the wait it is given', async () => {
    const store = new PostgresEventStore({
      url: 'postgres://postgres@localhost/postgres?host=/run/ds01-test/no-such-server&port=5432',
      codec: testCatalog,
      unavailableTimeoutMs: 300,
    });
    const error = await store.append('cart-1', [itemAdded('a')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ reason: 'io' });
    expect((error as Error).message).toMatch(/cannot be reached: check that PostgreSQL is running/);
    await expect(store.headPosition()).rejects.toThrow(StoreUnavailableError);
    await store.close();
  });

  it("a schema with another application's tables is refused and left unchanged", async () => {
    const schema = uniqueSchema('foreign');
    schemas.push(schema);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".events (id int)`);
      const store = new PostgresEventStore({ url, schema, codec: testCatalog });
      const error = await store.append('cart-1', [itemAdded('a')]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as Error).message).toContain(`schema '${schema}' with tables of another application`);
      await store.close();
      const { rows } = await client.query(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
        [schema],
      );
      expect(rows).toEqual([{ table_name: 'events' }]);
    } finally {
      await client.end();
    }
  });

  it('read-only on a log not created yet says to start ds01d, and creates nothing', async () => {
    const schema = uniqueSchema('absent');
    const store = new PostgresEventStore({ url, schema, codec: testCatalog, readOnly: true });
    await expect(store.headPosition()).rejects.toThrow(/has no DS01 log in schema .* start ds01d once/);
    await expect(store.append('cart-1', [itemAdded('a')])).rejects.toThrow(/read-only/);
    await store.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    await client.end();
    expect(rows).toEqual([]);
  });
});
