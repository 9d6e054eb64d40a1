import {
  eventTypeFilter,
  excludeSystemEvents,
  NO_STREAM,
  START,
  streamNameFilter,
} from '@kurrent/kurrentdb-client';
import { describe, expect, it } from 'vitest';
import { encodeAppend } from '../../src/encodeEvent.ts';
import {
  fingerprint,
  matchesFilter,
  readPositionAfter,
  redactUrl,
  SCHEMA_VERSION_KEY,
  serverFilterOf,
  streamStateOf,
  toEventData,
} from '../../src/eventstoredb/mapping.ts';
import { itemAdded, metadata, testCatalog } from '../contract/testCatalog.ts';

describe('how DS01 maps onto EventStoreDB', () => {
  it('writes the envelope as ESDB event data: id, type, JSON data, metadata with the schema version', () => {
    const causationId = '5b0f4e38-2f8e-4f43-9a53-4a8bd77a5b9e';
    const [encoded] = encodeAppend(
      testCatalog,
      'cart-1',
      [{ ...itemAdded('a', 2), metadata: metadata({ causationId }) }],
      'any',
    );
    const data = toEventData(encoded!);
    expect(data).toMatchObject({
      id: encoded!.eventId,
      contentType: 'application/json',
      type: 'test.ItemAdded',
      data: { item: 'a', quantity: 2 },
    });
    expect(data.metadata).toMatchObject({
      ...encoded!.metadata,
      [SCHEMA_VERSION_KEY]: 2,
      $correlationId: encoded!.metadata.correlationId,
      $causationId: causationId,
    });
    expect(data.metadata).not.toHaveProperty('recordedAt');
  });

  it('maps expected revisions and positions', () => {
    expect(streamStateOf('no_stream')).toBe(NO_STREAM);
    expect(streamStateOf(41)).toBe(41n);
    expect(readPositionAfter(0)).toBe(START);
    expect(readPositionAfter(undefined)).toBe(START);
    expect(readPositionAfter(1234)).toEqual({ commit: 1234n, prepare: 1234n });
  });

  it('filters on the server by prefix, else by exact type names, else excludes system events', () => {
    expect(serverFilterOf({ streamPrefixes: ['container-'], eventTypes: ['a'] })).toEqual(
      streamNameFilter({ prefixes: ['container-'] }),
    );
    expect(serverFilterOf({ eventTypes: ['container.Started', 'gpu.Allocated'] })).toEqual(
      eventTypeFilter({ regex: '^(?:container\\.Started|gpu\\.Allocated)$' }),
    );
    expect(serverFilterOf(undefined)).toEqual(excludeSystemEvents());
    expect(serverFilterOf({ streamPrefixes: [], eventTypes: [] })).toEqual(excludeSystemEvents());
  });

  it('checks on the client what the server did not filter', () => {
    const filter = { streamPrefixes: ['container-'], eventTypes: ['container.Started'] };
    expect(matchesFilter({ streamId: 'container-1', type: 'container.Started' }, filter)).toBe(true);
    expect(matchesFilter({ streamId: 'container-1', type: 'container.Stopped' }, filter)).toBe(false);
    expect(matchesFilter({ streamId: 'user-1', type: 'container.Started' }, filter)).toBe(false);
    expect(matchesFilter({ streamId: 'user-1', type: 'x' }, undefined)).toBe(true);
  });

  it('compares re-appends by type and exact data', () => {
    expect(fingerprint('a', '{"x":1}')).toBe(fingerprint('a', '{"x":1}'));
    expect(fingerprint('a', '{"x":1}')).not.toBe(fingerprint('b', '{"x":1}'));
    expect(fingerprint('a', '{"x":1}')).not.toBe(fingerprint('a', '{"x":2}'));
  });

  it('keeps passwords out of the location it reports', () => {
    expect(redactUrl('esdb://admin:changeit@db1:2113?tls=false')).toBe('esdb://admin:***@db1:2113?tls=false');
    expect(redactUrl('kurrentdb://db1:2113?tls=false')).toBe('kurrentdb://db1:2113?tls=false');
  });
});
