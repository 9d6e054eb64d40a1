import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openEventStore, StoreUnavailableError } from '../src/index.ts';
import { itemAdded, testCatalog } from './contract/testCatalog.ts';

const folder = mkdtempSync(join(tmpdir(), 'ds01-open-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('openEventStore', () => {
  it('opens the embedded SQLite store at the path when no connection string is configured', async () => {
    const store = await openEventStore({ path: join(folder, 'events.sqlite'), codec: testCatalog }, {});
    expect(store.info).toEqual({ kind: 'sqlite', location: join(folder, 'events.sqlite') });
    await store.append('cart-1', [itemAdded('a')]);
    await store.close();
  });

  it('opens EventStoreDB from DS01_EVENTSTORE_URL or the configured url, with the password hidden', async () => {
    const fromEnv = await openEventStore(
      { path: join(folder, 'unused.sqlite'), codec: testCatalog },
      { DS01_EVENTSTORE_URL: 'kurrentdb://admin:changeit@127.0.0.1:1?tls=false' },
    );
    expect(fromEnv.info).toEqual({
      kind: 'eventstoredb',
      location: 'kurrentdb://admin:***@127.0.0.1:1?tls=false',
    });
    await fromEnv.close();
    const fromConfig = await openEventStore(
      { url: 'esdb://127.0.0.1:1?tls=false', path: join(folder, 'unused.sqlite'), codec: testCatalog },
      { DS01_EVENTSTORE_URL: 'kurrentdb://elsewhere:2113?tls=false' },
    );
    expect(fromConfig.info.location).toBe('esdb://127.0.0.1:1?tls=false');
    await fromConfig.close();
  });

  it('opens PostgreSQL for a postgres:// url, with the password hidden, without connecting yet', async () => {
    const store = await openEventStore(
      { path: join(folder, 'unused.sqlite'), codec: testCatalog },
      { DS01_EVENTSTORE_URL: 'postgresql://ds01:secret@db-host:5432/ds01?schema=lab2' },
    );
    expect(store.info).toEqual({
      kind: 'postgres',
      location: 'postgresql://ds01:***@db-host:5432/ds01?schema=lab2',
    });
    await store.close();
    await expect(
      openEventStore({ url: 'postgres://db-host/ds01?schema=Not-A-Name', path: '', codec: testCatalog }, {}),
    ).rejects.toThrow(/schema 'Not-A-Name'.*lowercase letters/);
  });

  it('an EventStoreDB that cannot be reached is a StoreUnavailableError saying what to check', async () => {
    // Port 1 on localhost: nothing listens, the connection is refused at once.
    const store = await openEventStore(
      { url: 'kurrentdb://127.0.0.1:1?tls=false', path: join(folder, 'unused.sqlite'), codec: testCatalog },
      {},
    );
    const error = await store.append('cart-1', [itemAdded('a')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(/127\.0\.0\.1:1.*cannot be reached.*DS01_EVENTSTORE_URL/);
    await expect(store.headPosition()).rejects.toThrow(StoreUnavailableError);
    await store.close();
  });

  it('read-only EventStoreDB refuses appends before sending anything', async () => {
    const store = await openEventStore(
      {
        url: 'kurrentdb://127.0.0.1:1?tls=false',
        path: join(folder, 'unused.sqlite'),
        codec: testCatalog,
        readOnly: true,
      },
      {},
    );
    await expect(store.append('cart-1', [itemAdded('a')])).rejects.toThrow(/opened read-only/);
    await store.close();
  });
});
