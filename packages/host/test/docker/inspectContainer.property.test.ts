import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isoInstant } from '@ds01/domain';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { anyText, check, mutationOf, replaceOne, resultOrTypedError } from '../../../../test/support/fuzz.ts';
import { DockerAnswerError, parseInspect } from '../../src/docker/index.ts';

const where = { host: 'unix:///run/test.sock' };
/** The real `docker inspect` captures the domain's tests use (SOURCES.md beside them). */
const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'domain', 'test', 'containers', 'fixtures');
const captures = ['inspect-plain.json', 'inspect-exited.json'].map((file) =>
  readFileSync(join(FIXTURES, file), 'utf8'),
);

function isAnswerError(error: unknown): boolean {
  return (
    error instanceof DockerAnswerError && error.call === 'GET /containers/abc/json' && error.field !== ''
  );
}

/** An answer gives an inspect whose times the domain can read, or a refusal naming the field. */
function inspectOrRefusal(raw: unknown): void {
  const outcome = resultOrTypedError(() => parseInspect(where, 'abc', raw), isAnswerError, raw);
  if (!('value' in outcome)) return;
  const { Created, State } = outcome.value;
  for (const time of [Created, State.StartedAt, State.FinishedAt]) isoInstant(time);
}

describe('docker inspect answers on any input (property)', () => {
  it('any JSON value', () => check(fc.jsonValue(), inspectOrRefusal, 200));

  it.each(captures.map((text, i) => [i, text]))(
    'one field of real capture #%i replaced by anything',
    (_i, text) => {
      const document = JSON.parse(text) as unknown;
      check(
        fc
          .tuple(fc.nat(), fc.oneof(fc.jsonValue(), fc.constant(undefined), anyText(30)))
          .map(([pick, replacement]) => replaceOne(document, pick, replacement)),
        inspectOrRefusal,
        200,
      );
    },
  );

  it.each(captures.map((text, i) => [i, text]))('text mutations of real capture #%i', (_i, text) => {
    check(
      mutationOf(text).map((mutated) => {
        try {
          return JSON.parse(mutated) as unknown;
        } catch {
          return mutated; // not JSON any more: the daemon's client would hand over the text
        }
      }),
      inspectOrRefusal,
      150,
    );
  });
});
