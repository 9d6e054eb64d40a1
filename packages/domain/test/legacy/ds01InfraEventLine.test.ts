import { describe, expect, it } from 'vitest';
import { importedFacts, parseDs01InfraLine } from '../../src/index.ts';

describe("ds01-infra's event lines", () => {
  it('reads the envelope: timestamp (microseconds, Z), type, version, user, source, details', () => {
    const line =
      '{"timestamp":"2026-01-12T09:00:00.123456Z","event_type":"user.added","schema_version":"1","user":"carol","source":"sync","details":{"group":"researcher"}}';
    expect(parseDs01InfraLine(line)).toEqual({
      ok: true,
      record: {
        timestamp: '2026-01-12T09:00:00.123Z',
        eventType: 'user.added',
        schemaVersion: '1',
        user: 'carol',
        source: 'sync',
        details: { group: 'researcher' },
      },
    });
  });

  it('says what is wrong with a line it cannot read', () => {
    expect(parseDs01InfraLine('{"timestamp":"2026-01-1')).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/^not JSON/),
    });
    expect(parseDs01InfraLine('[1,2]')).toEqual({ ok: false, problem: 'not a JSON object' });
    expect(parseDs01InfraLine('{"event_type":"x"}')).toEqual({
      ok: false,
      problem: 'no readable "timestamp"',
    });
    expect(parseDs01InfraLine('{"timestamp":"2026-01-12T09:00:00Z"}')).toEqual({
      ok: false,
      problem: 'no "event_type"',
    });
    expect(
      parseDs01InfraLine('{"timestamp":"2026-01-12T09:00:00Z","event_type":"x","details":"a=b"}'),
    ).toEqual({
      ok: false,
      problem: '"details" is not an object',
    });
  });

  it('registers a user.added DS01 does not know; keeps every line; identical lines stay apart', () => {
    const line =
      '{"timestamp":"2026-01-12T09:00:00Z","event_type":"user.added","user":"carol","details":{"group":"student"}}';
    const parsed = parseDs01InfraLine(line);
    if (!parsed.ok) throw new Error(parsed.problem);
    const unknown = importedFacts(parsed.record, line, 1, 'gpu01', () => false);
    expect(unknown.map((f) => [f.stream, f.event.type])).toEqual([
      ['ds01-infra-events-gpu01', 'Ds01InfraEventImported'],
      ['user-carol', 'UserRegistered'],
    ]);
    expect(importedFacts(parsed.record, line, 1, 'gpu01', () => true).map((f) => f.event.type)).toEqual([
      'Ds01InfraEventImported',
    ]);
    expect(importedFacts(parsed.record, line, 2, 'gpu01', () => true)[0]!.identity).not.toBe(
      unknown[0]!.identity,
    );
  });
});
