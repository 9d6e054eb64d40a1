import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type EventCodec,
  EventIdConflictError,
  EventSchemaError,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
  StoreClosedError,
  type Subscription,
  WrongExpectedRevisionError,
} from '../../src/index.ts';
import { itemAdded, metadata, noteEvent, removed, testCatalog, testCatalogV1 } from './testCatalog.ts';

/**
 * Opens a store on the log named `logName` with this codec. Two calls with the same name must
 * reach the same log (that is how upcasting is tested: write with an old catalog, read with the new).
 */
export type MakeStore = (codec: EventCodec, logName: string) => Promise<EventStore>;

export interface ContractOptions {
  /** Each new logName is an empty log (SQLite files). False for a shared server (EventStoreDB). */
  freshLogPerName?: boolean;
  /** Event ids are unique in the whole log, not only within a stream. */
  eventIdsUniqueAcrossStreams?: boolean;
  /** Events to write to prove that a read or subscription crosses page boundaries (pages are 500/1000). */
  manyEvents?: number;
  /** appendMany is all or nothing across streams (false for EventStoreDB: atomic per stream only). */
  atomicBatches?: boolean;
}

/**
 * Everything the EventStore port promises, as one suite that every adapter runs. Tests use stream
 * names of their own (a random prefix), so they also hold on a log shared with other writers.
 */
export function describeEventStoreContract(
  name: string,
  makeStore: MakeStore,
  options: ContractOptions = {},
): void {
  const freshLog = options.freshLogPerName ?? true;
  const globalIds = options.eventIdsUniqueAcrossStreams ?? true;
  const manyEvents = options.manyEvents ?? 1_300;
  const atomicBatches = options.atomicBatches ?? true;

  describe(`${name}: EventStore contract`, () => {
    const opened: EventStore[] = [];
    let logName = '';
    let prefix = '';

    async function open(codec: EventCodec = testCatalog): Promise<EventStore> {
      const store = await makeStore(codec, logName);
      opened.push(store);
      return store;
    }

    /** A stream id unique to this test, with a readable role. */
    function stream(role: string): string {
      return `${prefix}${role}`;
    }

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });

    /** A test this adapter cannot pass by design, reported as skipped with its title. */
    function skipped(title: string, _body: () => Promise<void>): void {
      it.skip(`${title} (not promised by this adapter)`, () => {});
    }

    // beforeEach via a wrapper so that every `it` gets a fresh log name and prefix.
    function test(title: string, body: () => Promise<void>, timeout?: number): void {
      it(
        title,
        async () => {
          const id = randomUUID().slice(0, 8);
          logName = `contract-${id}`;
          prefix = `t${id}_`;
          await body();
        },
        timeout,
      );
    }

    describe('append with an expected revision', () => {
      test("'no_stream' creates a stream and refuses an existing one", async () => {
        const store = await open();
        const id = stream('cart');
        const first = await store.append(id, [itemAdded('a')], { expectedRevision: 'no_stream' });
        expect(first.nextExpectedRevision).toBe(0);
        const error = await store
          .append(id, [itemAdded('b')], { expectedRevision: 'no_stream' })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect(error).toMatchObject({ streamId: id, expected: 'no_stream', actual: 0 });
        expect((error as Error).message).toContain(id);
        expect(await store.streamRevision(id)).toBe(0);
      });

      test("'stream_exists' refuses an absent stream and accepts an existing one", async () => {
        const store = await open();
        const id = stream('cart');
        const error = await store
          .append(id, [itemAdded('a')], { expectedRevision: 'stream_exists' })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect(error).toMatchObject({ streamId: id, expected: 'stream_exists', actual: 'no_stream' });
        await store.append(id, [itemAdded('a')]);
        const result = await store.append(id, [itemAdded('b')], { expectedRevision: 'stream_exists' });
        expect(result.nextExpectedRevision).toBe(1);
      });

      test('an exact revision must be the revision of the last event', async () => {
        const store = await open();
        const id = stream('cart');
        await store.append(id, [itemAdded('a'), itemAdded('b')], { expectedRevision: 'no_stream' });
        const ok = await store.append(id, [itemAdded('c')], { expectedRevision: 1 });
        expect(ok.nextExpectedRevision).toBe(2);
        for (const stale of [0, 1, 3]) {
          const error = await store
            .append(id, [itemAdded('x')], { expectedRevision: stale })
            .catch((e: unknown) => e);
          expect(error).toBeInstanceOf(WrongExpectedRevisionError);
          expect(error).toMatchObject({ streamId: id, expected: stale, actual: 2 });
          expect((error as Error).message).toMatch(new RegExp(`${id}.*revision 2.*revision ${stale}`));
        }
        const absent = await store
          .append(stream('absent'), [itemAdded('x')], { expectedRevision: 0 })
          .catch((e: unknown) => e);
        expect(absent).toMatchObject({ expected: 0, actual: 'no_stream' });
      });

      test("'any' (the default) appends whatever the stream's state", async () => {
        const store = await open();
        const id = stream('cart');
        expect((await store.append(id, [itemAdded('a')])).nextExpectedRevision).toBe(0);
        expect(
          (await store.append(id, [itemAdded('b')], { expectedRevision: 'any' })).nextExpectedRevision,
        ).toBe(1);
      });

      test('a refused append writes nothing', async () => {
        const store = await open();
        const id = stream('cart');
        await store.append(id, [itemAdded('a')]);
        const before = await store.headPosition();
        await expect(
          store.append(id, [itemAdded('b'), itemAdded('c')], { expectedRevision: 5 }),
        ).rejects.toThrow(WrongExpectedRevisionError);
        expect(await store.headPosition()).toBe(before);
        expect(await collect(store.readStream(id))).toHaveLength(1);
      });

      test('the result names the revision and log position of the last event appended', async () => {
        const store = await open();
        const id = stream('cart');
        const result = await store.append(id, [itemAdded('a'), itemAdded('b'), itemAdded('c')]);
        const events = await collect(store.readStream(id));
        expect(events.map((e) => e.revision)).toEqual([0, 1, 2]);
        expect(result).toEqual({ nextExpectedRevision: 2, position: events[2]!.position });
        expect(events[0]!.position).toBeLessThan(events[1]!.position);
        expect(events[1]!.position).toBeLessThan(events[2]!.position);
        expect(await store.headPosition()).toBeGreaterThanOrEqual(result.position);
      });

      test('appends asked for at once each succeed or fail alone, in the order asked', async () => {
        const store = await open();
        const cart = stream('cart');
        const other = stream('other');
        // Not awaited one by one: an adapter may commit them together (the SQLite store does).
        const outcomes = await Promise.allSettled([
          store.append(cart, [itemAdded('a')], { expectedRevision: 'no_stream' }),
          store.append(cart, [itemAdded('b')], { expectedRevision: 'no_stream' }),
          store.append(other, [itemAdded('x'), itemAdded('y')]),
          store.append(cart, [itemAdded('c')], { expectedRevision: 0 }),
        ]);
        expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
        expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedRevisionError);
        const carts = await collect(store.readStream(cart));
        expect(carts.map((e) => (e.data as { item: string }).item)).toEqual(['a', 'c']);
        expect(await collect(store.readStream(other))).toHaveLength(2);
        const positions = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.position] : []));
        expect(isStrictlyIncreasing(positions)).toBe(true);
      });

      test('an empty append or an empty stream id is refused', async () => {
        const store = await open();
        await expect(store.append(stream('cart'), [])).rejects.toThrow(EventSchemaError);
        await expect(store.append('', [itemAdded('a')])).rejects.toThrow(EventSchemaError);
        await expect(
          store.append(stream('cart'), [itemAdded('a')], { expectedRevision: -3 as unknown as number }),
        ).rejects.toThrow(EventSchemaError);
      });
    });

    describe('multi-stream batch append', () => {
      test('writes every stream, each checked against its own expected revision, positions in order', async () => {
        const store = await open();
        await store.append(stream('b'), [itemAdded('b0')]);
        const results = await store.appendMany([
          {
            streamId: stream('a'),
            events: [itemAdded('a0'), itemAdded('a1')],
            expectedRevision: 'no_stream',
          },
          { streamId: stream('b'), events: [itemAdded('b1')], expectedRevision: 0 },
          { streamId: stream('c'), events: [noteEvent('c0')] },
        ]);
        expect(results.map((r) => r.nextExpectedRevision)).toEqual([1, 1, 0]);
        expect(isStrictlyIncreasing(results.map((r) => r.position))).toBe(true);
        const items = async (role: string) =>
          (await collect(store.readStream(stream(role)))).map((e) => e.position);
        expect((await items('a')).at(-1)).toBe(results[0]!.position);
        expect((await items('b')).at(-1)).toBe(results[1]!.position);
        expect((await items('c')).at(-1)).toBe(results[2]!.position);
        expect(await store.headPosition()).toBeGreaterThanOrEqual(results[2]!.position);
        expect(await store.appendMany([])).toEqual([]);
      });

      (atomicBatches ? test : skipped)(
        'one stream at the wrong revision writes nothing of the batch and names that stream',
        async () => {
          const store = await open();
          await store.append(stream('b'), [itemAdded('b0'), itemAdded('b1')]);
          const head = await store.headPosition();
          const error = await store
            .appendMany([
              { streamId: stream('a'), events: [itemAdded('a0')], expectedRevision: 'no_stream' },
              { streamId: stream('b'), events: [itemAdded('b2')], expectedRevision: 0 },
              { streamId: stream('c'), events: [itemAdded('c0')] },
            ])
            .catch((e: unknown) => e);
          expect(error).toBeInstanceOf(WrongExpectedRevisionError);
          expect(error).toMatchObject({ streamId: stream('b'), expected: 0, actual: 1 });
          expect(await store.headPosition()).toBe(head);
          expect(await store.streamRevision(stream('a'))).toBe('no_stream');
          expect(await store.streamRevision(stream('c'))).toBe('no_stream');
        },
      );

      (atomicBatches ? test : skipped)(
        'an event id conflict in one stream writes nothing of the batch',
        async () => {
          const store = await open();
          const event = itemAdded('x');
          await store.append(stream('b'), [event]);
          const head = await store.headPosition();
          const changed: NewEvent = { ...event, data: { item: 'x', quantity: 9 } };
          const error = await store
            .appendMany([
              { streamId: stream('a'), events: [itemAdded('a0')] },
              { streamId: stream('b'), events: [changed] },
            ])
            .catch((e: unknown) => e);
          expect(error).toBeInstanceOf(EventIdConflictError);
          expect(await store.headPosition()).toBe(head);
          expect(await store.streamRevision(stream('a'))).toBe('no_stream');
        },
      );

      test('the same batch again is a no-op returning the same results', async () => {
        const store = await open();
        const batch = [
          {
            streamId: stream('a'),
            events: [itemAdded('a0'), itemAdded('a1')],
            expectedRevision: 'no_stream' as const,
          },
          { streamId: stream('b'), events: [noteEvent('b0')], expectedRevision: 'no_stream' as const },
        ];
        const first = await store.appendMany(batch);
        const head = await store.headPosition();
        expect(await store.appendMany(batch)).toEqual(first);
        expect(await store.headPosition()).toBe(head);
        // Part of it already there, the rest new: the known part is skipped, the new part appended.
        const extended = [...batch, { streamId: stream('c'), events: [itemAdded('c0')] }];
        const third = await store.appendMany(extended);
        expect(third.slice(0, 2)).toEqual(first);
        expect(third[2]!.position).toBeGreaterThan(head);
      });

      test('a stream named twice, or an invalid event anywhere, is refused before anything is written', async () => {
        const store = await open();
        const head = await store.headPosition();
        await expect(
          store.appendMany([
            { streamId: stream('a'), events: [itemAdded('1')] },
            { streamId: stream('a'), events: [itemAdded('2')] },
          ]),
        ).rejects.toThrow(EventSchemaError);
        await expect(
          store.appendMany([
            { streamId: stream('a'), events: [itemAdded('1')] },
            { streamId: stream('b'), events: [] },
          ]),
        ).rejects.toThrow(EventSchemaError);
        await expect(
          store.appendMany([
            { streamId: stream('a'), events: [itemAdded('1')] },
            { streamId: stream('b'), events: [{ type: 'test.Unknown', data: {}, metadata: metadata() }] },
          ]),
        ).rejects.toThrow(EventSchemaError);
        expect(await store.headPosition()).toBe(head);
      });

      test('a subscriber sees the whole batch, in the order given', async () => {
        const store = await open();
        const start = await store.headPosition();
        const subscription = store.subscribeToAll({ after: start, filter: { streamPrefixes: [prefix] } });
        await store.appendMany([
          { streamId: stream('a'), events: [itemAdded('1'), itemAdded('2')] },
          { streamId: stream('b'), events: [itemAdded('3')] },
        ]);
        const delivered = await take(subscription, 3);
        expect(delivered.map((e) => (e.data as { item: string }).item)).toEqual(['1', '2', '3']);
      });
    });

    describe('read a stream', () => {
      test('forwards and backwards, from a revision, with a maximum count', async () => {
        const store = await open();
        const id = stream('cart');
        await store.append(
          id,
          ['a', 'b', 'c', 'd', 'e'].map((item) => itemAdded(item)),
        );
        const items = async (options: Parameters<EventStore['readStream']>[1]) =>
          (await collect(store.readStream(id, options))).map((e) => (e.data as { item: string }).item);
        expect(await items({})).toEqual(['a', 'b', 'c', 'd', 'e']);
        expect(await items({ direction: 'backwards' })).toEqual(['e', 'd', 'c', 'b', 'a']);
        expect(await items({ fromRevision: 2 })).toEqual(['c', 'd', 'e']);
        expect(await items({ fromRevision: 2, direction: 'backwards' })).toEqual(['c', 'b', 'a']);
        expect(await items({ maxCount: 2 })).toEqual(['a', 'b']);
        expect(await items({ maxCount: 2, direction: 'backwards' })).toEqual(['e', 'd']);
        expect(await items({ fromRevision: 1, maxCount: 2 })).toEqual(['b', 'c']);
        expect(await items({ fromRevision: 9 })).toEqual([]);
        expect(await items({ maxCount: 0 })).toEqual([]);
      });

      test('an absent stream reads as empty and has no revision', async () => {
        const store = await open();
        expect(await collect(store.readStream(stream('absent')))).toEqual([]);
        expect(await collect(store.readStream(stream('absent'), { direction: 'backwards' }))).toEqual([]);
        expect(await store.streamRevision(stream('absent'))).toBe('no_stream');
      });

      test('a stream longer than a page reads whole, in order, both ways', async () => {
        const store = await open();
        const id = stream('long');
        await appendMany(store, id, manyEvents);
        const forwards = await collect(store.readStream(id));
        expect(forwards.map((e) => e.revision)).toEqual(range(manyEvents));
        const backwards = await collect(store.readStream(id, { direction: 'backwards' }));
        expect(backwards.map((e) => e.revision)).toEqual(range(manyEvents).reverse());
        expect(await store.streamRevision(id)).toBe(manyEvents - 1);
      });

      test('only its own stream, even when another stream id starts the same', async () => {
        const store = await open();
        await store.append(stream('cart'), [itemAdded('mine')]);
        await store.append(stream('cart-2'), [itemAdded('other')]);
        const events = await collect(store.readStream(stream('cart')));
        expect(events.map((e) => e.streamId)).toEqual([stream('cart')]);
      });
    });

    describe('read all', () => {
      test('in log order, after a position, with a maximum count', async () => {
        const store = await open();
        const start = await store.headPosition();
        await store.append(stream('a'), [itemAdded('1')]);
        await store.append(stream('b'), [itemAdded('2'), itemAdded('3')]);
        await store.append(stream('a'), [itemAdded('4')]);
        const mine = (await collect(store.readAll({ after: start }))).filter((e) =>
          e.streamId.startsWith(prefix),
        );
        expect(mine.map((e) => (e.data as { item: string }).item)).toEqual(['1', '2', '3', '4']);
        expect(mine.map((e) => [e.streamId, e.revision])).toEqual([
          [stream('a'), 0],
          [stream('b'), 0],
          [stream('b'), 1],
          [stream('a'), 1],
        ]);
        const afterSecond = await collect(store.readAll({ after: mine[1]!.position }));
        expect(afterSecond.slice(0, 2).map((e) => e.position)).toEqual([
          mine[2]!.position,
          mine[3]!.position,
        ]);
        expect(await collect(store.readAll({ after: start, maxCount: 2 }))).toHaveLength(2);
        expect(
          await collect(store.readAll({ after: mine[3]!.position, filter: { streamPrefixes: [prefix] } })),
        ).toEqual([]);
      });

      test('readBatch gives as one array what readAll yields with the same options', async () => {
        const store = await open();
        const start = await store.headPosition();
        await store.append(stream('batch-a'), [itemAdded('1'), noteEvent('n')]);
        await store.append(stream('batch-b'), [itemAdded('2'), itemAdded('3')]);
        for (const options of [
          { after: start, maxCount: 3 },
          { after: start, maxCount: 10, filter: { streamPrefixes: [stream('batch-')] } },
          { after: start, maxCount: 10, filter: { eventTypes: ['test.Noted'], streamPrefixes: [prefix] } },
        ]) {
          expect(await store.readBatch(options)).toEqual(await collect(store.readAll(options)));
        }
        expect(await store.readBatch({ after: start, maxCount: 3 })).toHaveLength(3);
      });

      test('filtered by stream prefix, by event type, and by both', async () => {
        const store = await open();
        await store.append(stream('container-1'), [itemAdded('c1'), removed('c1')]);
        await store.append(stream('user-1'), [itemAdded('u1'), noteEvent('n')]);
        await store.append(stream('container-2'), [noteEvent('c2')]);
        await store.append(stream('pool-1'), [itemAdded('p1')]);
        const read = async (filter: { streamPrefixes?: string[]; eventTypes?: string[] }) =>
          (await collect(store.readAll({ filter }))).map(
            (e) => `${e.streamId.slice(prefix.length)}/${e.type}`,
          );
        expect(await read({ streamPrefixes: [stream('container-')] })).toEqual([
          'container-1/test.ItemAdded',
          'container-1/test.ItemRemoved',
          'container-2/test.Noted',
        ]);
        expect(await read({ streamPrefixes: [stream('container-'), stream('pool-')] })).toHaveLength(4);
        expect(await read({ streamPrefixes: [prefix], eventTypes: ['test.Noted'] })).toEqual([
          'user-1/test.Noted',
          'container-2/test.Noted',
        ]);
        expect(
          await read({
            streamPrefixes: [stream('container-')],
            eventTypes: ['test.ItemAdded', 'test.Noted'],
          }),
        ).toEqual(['container-1/test.ItemAdded', 'container-2/test.Noted']);
        expect(await read({ streamPrefixes: [stream('nothing-')] })).toEqual([]);
        // Only what a type filter lets through, and all of it (other tests may add more of the type).
        const removedEvents = (
          await collect(store.readAll({ filter: { eventTypes: ['test.ItemRemoved'] } }))
        ).filter((e) => e.streamId.startsWith(prefix));
        expect(removedEvents.map((e) => e.streamId)).toEqual([stream('container-1')]);
      });

      test('a prefix is matched literally (no wildcards)', async () => {
        const store = await open();
        await store.append(`${prefix}a_b-1`, [itemAdded('literal')]);
        await store.append(`${prefix}axb-1`, [itemAdded('wildcard match')]);
        await store.append(`${prefix}a%b-1`, [itemAdded('percent')]);
        const events = await collect(store.readAll({ filter: { streamPrefixes: [`${prefix}a_b`] } }));
        expect(events.map((e) => e.streamId)).toEqual([`${prefix}a_b-1`]);
      });

      test('a filter that skips more than a page still reaches later events', async () => {
        const store = await open();
        const start = await store.headPosition();
        await appendMany(store, stream('noise'), manyEvents);
        await store.append(stream('signal'), [itemAdded('found')]);
        const found = await collect(
          store.readAll({ after: start, filter: { streamPrefixes: [stream('signal')] } }),
        );
        expect(found.map((e) => e.streamId)).toEqual([stream('signal')]);
        const all = await collect(store.readAll({ after: start, filter: { streamPrefixes: [prefix] } }));
        expect(all).toHaveLength(manyEvents + 1);
        expect(isStrictlyIncreasing(all.map((e) => e.position))).toBe(true);
      });

      test('headPosition, countEvents and streamRevision follow appends', async () => {
        const store = await open();
        if (freshLog) {
          expect(await store.headPosition()).toBe(0);
          expect(await store.countEvents()).toBe(0);
        }
        const countBefore = await store.countEvents();
        const first = await store.append(stream('a'), [itemAdded('1'), itemAdded('2')]);
        expect(await store.headPosition()).toBe(first.position);
        const second = await store.append(stream('b'), [itemAdded('3')]);
        expect(second.position).toBeGreaterThan(first.position);
        expect(await store.headPosition()).toBe(second.position);
        expect(await store.countEvents()).toBe(countBefore + 3);
        expect(await store.streamRevision(stream('a'))).toBe(1);
        expect(await store.streamRevision(stream('b'))).toBe(0);
      });
    });

    describe('subscribe to all', () => {
      test('catches up across pages while others append, then goes live: no gap, no duplicate', async () => {
        const store = await open();
        const writer = await open();
        const start = await store.headPosition();
        await appendMany(store, stream('backlog'), manyEvents);
        const live = 150;
        const expected = manyEvents + live;
        const caughtUp: number[] = [];
        const subscription = store.subscribeToAll({
          after: start,
          filter: { streamPrefixes: [prefix] },
          onCaughtUp: (position) => caughtUp.push(position),
        });
        // Appends race the catch-up: some land while the backlog is being paged, some after.
        const appending = (async () => {
          for (let i = 0; i < live; i++) {
            await writer.append(stream(`live-${i % 7}`), [itemAdded(`live-${i}`)]);
            if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
          }
        })();
        const delivered = await take(subscription, expected);
        await appending;
        const positions = delivered.map((e) => e.position);
        expect(isStrictlyIncreasing(positions)).toBe(true);
        expect(new Set(delivered.map((e) => e.metadata.eventId)).size).toBe(expected);
        const inLog = await collect(store.readAll({ after: start, filter: { streamPrefixes: [prefix] } }));
        expect(positions).toEqual(inLog.map((e) => e.position));
        expect(caughtUp).toHaveLength(1);
      }, 60_000);

      test('onCaughtUp comes once, after the backlog and before live events', async () => {
        const store = await open();
        const start = await store.headPosition();
        const backlog = await store.append(stream('a'), [itemAdded('1'), itemAdded('2')]);
        const seen: string[] = [];
        const subscription = store.subscribeToAll({
          after: start,
          filter: { streamPrefixes: [prefix] },
          onCaughtUp: (position) => {
            seen.push('caught-up');
            expect(position).toBeGreaterThanOrEqual(backlog.position);
            void store.append(stream('a'), [itemAdded('3')]);
          },
        });
        await take(subscription, 3, (event) => seen.push((event.data as { item: string }).item));
        expect(seen).toEqual(['1', '2', 'caught-up', '3']);
      });

      test('filters by stream prefix and by event type, together', async () => {
        const store = await open();
        const start = await store.headPosition();
        const subscription = store.subscribeToAll({
          after: start,
          filter: { streamPrefixes: [stream('container-')], eventTypes: ['test.ItemAdded'] },
        });
        await store.append(stream('user-1'), [itemAdded('no')]);
        await store.append(stream('container-1'), [noteEvent('no'), itemAdded('yes-1')]);
        await store.append(stream('container-2'), [removed('no'), itemAdded('yes-2')]);
        const delivered = await take(subscription, 2);
        expect(delivered.map((e) => (e.data as { item: string }).item)).toEqual(['yes-1', 'yes-2']);
      });

      test('from a position: strictly after it', async () => {
        const store = await open();
        await store.append(stream('a'), [itemAdded('1'), itemAdded('2'), itemAdded('3')]);
        const events = await collect(store.readStream(stream('a')));
        const subscription = store.subscribeToAll({
          after: events[0]!.position,
          filter: { streamPrefixes: [prefix] },
        });
        const delivered = await take(subscription, 2);
        expect(delivered.map((e) => e.revision)).toEqual([1, 2]);
      });

      test('close() ends the iteration, also while it waits for events', async () => {
        const store = await open();
        const subscription = store.subscribeToAll({
          after: await store.headPosition(),
          filter: { streamPrefixes: [prefix] },
        });
        const delivered: RecordedEvent[] = [];
        const iterating = (async () => {
          for await (const event of subscription) delivered.push(event);
          return 'ended';
        })();
        await store.append(stream('a'), [itemAdded('1')]);
        await waitUntil(() => delivered.length === 1);
        await subscription.close();
        expect(await iterating).toBe('ended');
        await store.append(stream('a'), [itemAdded('2')]);
        expect(delivered).toHaveLength(1);
      });
    });

    describe('idempotent append by event id', () => {
      test('the same event again is a no-op returning its position, even with a stale expected revision', async () => {
        const store = await open();
        const id = stream('cart');
        const event = itemAdded('a');
        const first = await store.append(id, [event, itemAdded('b')], { expectedRevision: 'no_stream' });
        const firstEvent = (await collect(store.readStream(id)))[0]!;
        const head = await store.headPosition();
        const again = await store.append(id, [event], { expectedRevision: 'no_stream' });
        expect(again.position).toBe(firstEvent.position);
        expect(again.nextExpectedRevision).toBe(first.nextExpectedRevision);
        const retryWhole = await store
          .append(id, [event, itemAdded('never-written')], { expectedRevision: 'no_stream' })
          .catch((e: unknown) => e);
        // A retry of a batch where only part was written before is not a retry: it must conflict.
        expect(retryWhole).toBeInstanceOf(WrongExpectedRevisionError);
        expect(await store.append(id, [event], { expectedRevision: 'any' })).toEqual(again);
        expect(await store.append(id, [event], { expectedRevision: 7 })).toEqual(again);
        expect(await store.headPosition()).toBe(head);
        expect(await collect(store.readStream(id))).toHaveLength(2);
      });

      test('a whole batch appended again is a no-op', async () => {
        const store = await open();
        const id = stream('cart');
        const batch = [itemAdded('a'), itemAdded('b'), noteEvent('c')];
        const first = await store.append(id, batch, { expectedRevision: 'no_stream' });
        const again = await store.append(id, batch, { expectedRevision: 'no_stream' });
        expect(again).toEqual(first);
        expect(await store.streamRevision(id)).toBe(2);
      });

      test('the same id with another payload is an EventIdConflictError, and nothing is written', async () => {
        const store = await open();
        const id = stream('cart');
        const event = itemAdded('a');
        await store.append(id, [event]);
        const head = await store.headPosition();
        const changed: NewEvent = { ...event, data: { item: 'a', quantity: 2 } };
        const error = await store.append(id, [itemAdded('b'), changed]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(EventIdConflictError);
        expect(error).toMatchObject({ eventId: event.metadata.eventId, streamId: id });
        const otherType: NewEvent = { ...event, type: 'test.Noted', data: { text: 'a' } };
        await expect(store.append(id, [otherType])).rejects.toThrow(EventIdConflictError);
        expect(await store.headPosition()).toBe(head);
      });

      it.skipIf(!globalIds)('the same id in another stream is an EventIdConflictError', async () => {
        prefix = `t${randomUUID().slice(0, 8)}_`;
        logName = `contract-${prefix}`;
        const store = await open();
        const event = itemAdded('a');
        await store.append(stream('one'), [event]);
        const error = await store.append(stream('two'), [event]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(EventIdConflictError);
        expect((error as Error).message).toContain(stream('one'));
        expect(await store.streamRevision(stream('two'))).toBe('no_stream');
      });
    });

    describe('envelope', () => {
      test('metadata round-trips and recordedAt is set by the store', async () => {
        const store = await open();
        const id = stream('cart');
        const before = Date.now();
        const input = metadata({
          actor: { kind: 'user', name: 'alice' },
          host: 'gpu-host-1',
          occurredAt: '2024-12-31T23:59:59.123Z',
          causationId: randomUUID(),
        });
        const supplied = { ...input, recordedAt: '2000-01-01T00:00:00.000Z' };
        await store.append(id, [
          { type: 'test.Noted', data: { text: 'hello', tags: ['x'] }, metadata: supplied },
        ]);
        const [event] = await collect(store.readStream(id));
        expect(event).toMatchObject({
          type: 'test.Noted',
          version: 1,
          data: { text: 'hello', tags: ['x'] },
          streamId: id,
        });
        const { recordedAt, ...rest } = event!.metadata;
        expect(rest).toEqual(input);
        expect(recordedAt).not.toBe('2000-01-01T00:00:00.000Z');
        // Within a generous window: the store's clock (or the server's) made it, not the writer.
        expect(Math.abs(Date.parse(recordedAt) - before)).toBeLessThan(10 * 60_000);
        const [fromAll] = await collect(store.readAll({ filter: { streamPrefixes: [id] } }));
        expect(fromAll).toEqual(event);
      });
    });

    describe('close', () => {
      // A caller told "failed" retries under a new event id: an append refused yet written would
      // then be recorded twice, and one acknowledged yet not written would be lost.
      test('an append is acknowledged if and only if it is on the log, while close() runs too', async () => {
        const store = await open();
        const total = 600;
        const closeAt = 300;
        const acknowledged: string[] = [];
        const refused: { eventId: string; error: unknown }[] = [];
        const appends: Promise<void>[] = [];
        let closing: Promise<void> | undefined;
        for (let i = 0; i < total; i++) {
          const event = itemAdded(`n${i}`);
          const { eventId } = event.metadata;
          appends.push(
            store.append(stream(`s${i % 7}`), [event]).then(
              () => void acknowledged.push(eventId),
              (error: unknown) => void refused.push({ eventId, error }),
            ),
          );
          if (i === closeAt) closing = store.close();
          // Let the writer commit some groups while later appends are still being asked for.
          if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
        }
        await Promise.all(appends);
        await closing;
        for (const { error } of refused) expect(error).toBeInstanceOf(StoreClosedError);

        const reopened = await open();
        const onLog = (await collect(reopened.readAll({ filter: { streamPrefixes: [prefix] } }))).map(
          (event) => event.metadata.eventId,
        );
        expect(onLog.length).toBe(new Set(onLog).size);
        expect(new Set(onLog)).toEqual(new Set(acknowledged));
        // close() drains: what was asked for before it is committed, what came after is not.
        expect(acknowledged).toHaveLength(closeAt + 1);
        expect(refused).toHaveLength(total - closeAt - 1);
        await expect(store.append(stream('late'), [itemAdded('late')])).rejects.toThrow(StoreClosedError);
      });
    });

    describe('schema validation through the codec', () => {
      test('an unknown event type is refused at append and nothing is written', async () => {
        const store = await open();
        const head = await store.headPosition();
        const error = await store
          .append(stream('cart'), [itemAdded('ok'), { type: 'test.Unknown', data: {}, metadata: metadata() }])
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(EventSchemaError);
        expect(error).toMatchObject({ eventType: 'test.Unknown', field: '' });
        expect((error as Error).message).toContain('not a known event type');
        expect(await store.headPosition()).toBe(head);
        expect(await store.streamRevision(stream('cart'))).toBe('no_stream');
      });

      test('a payload that fails its schema is refused, naming the field', async () => {
        const store = await open();
        const error = await store
          .append(stream('cart'), [
            { type: 'test.ItemAdded', data: { item: 'a', quantity: -1 }, metadata: metadata() },
          ])
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(EventSchemaError);
        expect(error).toMatchObject({ eventType: 'test.ItemAdded', field: 'quantity' });
        const badMetadata = await store
          .append(stream('cart'), [{ ...itemAdded('a'), metadata: metadata({ eventId: 'not-a-uuid' }) }])
          .catch((e: unknown) => e);
        expect(badMetadata).toMatchObject({ field: 'metadata.eventId' });
        expect(await store.streamRevision(stream('cart'))).toBe('no_stream');
      });

      test('what is stored is the schema’s output (defaults applied)', async () => {
        const store = await open();
        await store.append(stream('cart'), [removed('a')]);
        const [event] = await collect(store.readStream(stream('cart')));
        expect(event!.data).toEqual({ item: 'a', reason: 'unspecified' });
      });

      test('an event written as an older version is upcast on read', async () => {
        const old = await open(testCatalogV1);
        const id = stream('cart');
        const start = await old.headPosition();
        await old.append(id, [{ type: 'test.ItemAdded', data: { name: 'legacy' }, metadata: metadata() }]);
        const [asWritten] = await collect(old.readStream(id));
        expect(asWritten).toMatchObject({ version: 1, data: { name: 'legacy' } });
        await old.close();

        const current = await open(testCatalog);
        await current.append(id, [itemAdded('modern', 3)]);
        const expectedData = [
          { version: 2, data: { item: 'legacy', quantity: 1 } },
          { version: 2, data: { item: 'modern', quantity: 3 } },
        ];
        expect(await collect(current.readStream(id))).toMatchObject(expectedData);
        expect(
          await collect(current.readAll({ after: start, filter: { streamPrefixes: [id] } })),
        ).toMatchObject(expectedData);
        const subscription = current.subscribeToAll({ after: start, filter: { streamPrefixes: [id] } });
        expect(await take(subscription, 2)).toMatchObject(expectedData);
      });
    });
  });
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** The first `count` events of a subscription, then closes it. Fails instead of hanging. */
export async function take(
  subscription: Subscription,
  count: number,
  onEvent?: (event: RecordedEvent) => void,
  timeoutMs = 30_000,
): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  const timer = setTimeout(() => void subscription.close(), timeoutMs);
  try {
    for await (const event of subscription) {
      events.push(event);
      onEvent?.(event);
      if (events.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
    await subscription.close();
  }
  if (events.length < count)
    throw new Error(`subscription delivered ${events.length} of ${count} events within ${timeoutMs} ms`);
  return events;
}

async function appendMany(store: EventStore, streamId: string, count: number): Promise<void> {
  for (let start = 0; start < count; start += 250) {
    const batch = range(Math.min(250, count - start)).map((i) => itemAdded(`item-${start + i}`));
    await store.append(streamId, batch);
  }
}

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function isStrictlyIncreasing(values: number[]): boolean {
  return values.every((value, i) => i === 0 || value > values[i - 1]!);
}
