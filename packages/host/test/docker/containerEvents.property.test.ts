import { readFileSync } from 'node:fs';
import { instantOfTimeNano } from '@ds01/domain';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anyText, check, mutationOf, resultOrTypedError } from '../../../../test/support/fuzz.ts';
import { DockerAnswerError, parseContainerEventLine } from '../../src/docker/index.ts';

const where = { host: 'unix:///run/test.sock' };
const line = readFileSync(new URL('./fixtures/event-create.jsonl', import.meta.url), 'utf8').trim();

/** A refusal names the call and the field: "GET /events on …: field 'Actor.ID' …". */
function isAnswerError(error: unknown): boolean {
  return error instanceof DockerAnswerError && error.call === 'GET /events' && error.field !== '';
}

/** An event line gives a container event the domain can take (its time readable), nothing, or a refusal. */
function eventOrRefusal(text: string): void {
  const outcome = resultOrTypedError(() => parseContainerEventLine(where, text), isAnswerError, text);
  if (!('value' in outcome) || outcome.value === undefined) return;
  const event = outcome.value;
  expect(typeof event.id).toBe('string');
  expect(typeof event.action).toBe('string');
  expect(event.timeNano).toMatch(/^\d+$/);
  for (const value of Object.values(event.attributes)) expect(typeof value).toBe('string');
  instantOfTimeNano(event.timeNano);
}

describe('Docker event lines on any input (property)', () => {
  it.each(['null', '[1]', '"text"', '{"Type":"container","Action":{},"Actor":{"ID":"x"},"timeNano":1}'])(
    'a line that is JSON but not an event (%s) is a DockerAnswerError, not a TypeError',
    (text) => {
      expect(() => parseContainerEventLine(where, text)).toThrow(DockerAnswerError);
    },
  );

  it('arbitrary text and bytes', () => check(anyText(), eventOrRefusal, 200));

  it('any JSON value', () =>
    check(
      fc.jsonValue().map((value) => JSON.stringify(value)),
      eventOrRefusal,
      200,
    ));

  it('container events with any Action, Actor and timeNano', () => {
    check(
      fc
        .record({
          Type: fc.constant('container'),
          Action: fc.oneof(fc.string(), fc.jsonValue()),
          Actor: fc.oneof(
            fc.record({ ID: fc.oneof(fc.string(), fc.jsonValue()), Attributes: fc.jsonValue() }),
            fc.jsonValue(),
          ),
          time: fc.nat(),
        })
        .chain((event) =>
          fc
            .oneof(fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String), fc.constant('1795531021555215131'))
            .map((timeNano) => `${JSON.stringify(event).slice(0, -1)},"timeNano":${timeNano}}`),
        ),
      eventOrRefusal,
      300,
    );
  });

  it('mutations of a real event line', () => check(mutationOf(line), eventOrRefusal, 300));
});
