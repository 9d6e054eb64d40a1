import fc from 'fast-check';

/**
 * Shared pieces of the parsers' property tests (`*.property.test.ts`): inputs from outside DS01
 * (nvidia-smi, Docker, the lab's files, the command line) give a result or the parser's typed error,
 * never another exception and never a hang.
 */

/** Longest one parse may take on the slowest machine the suite runs on before it counts as a hang. */
export const PARSE_DEADLINE_MS = 500;

/**
 * Runs one parse: returns what it returned, or the error it threw when `isExpected` accepts it.
 * Fails on any other error (a TypeError is a bug, not a refusal) and on a parse that takes longer
 * than the deadline (a regex that backtracks without end, a loop that does not terminate).
 */
export function resultOrTypedError<T>(
  parse: () => T,
  isExpected: (error: unknown) => boolean,
  input: unknown,
): { value: T } | { error: Error } {
  const started = performance.now();
  let outcome: { value: T } | { error: Error };
  try {
    outcome = { value: parse() };
  } catch (error) {
    if (!isExpected(error)) {
      throw new Error(
        `unexpected ${(error as Error)?.name ?? typeof error} for input ${JSON.stringify(input)?.slice(0, 300)}: ${
          (error as Error)?.stack ?? String(error)
        }`,
      );
    }
    outcome = { error: error as Error };
  }
  const ms = performance.now() - started;
  // A plain check, not expect(): thousands of runs would pay for its bookkeeping.
  if (ms > PARSE_DEADLINE_MS) {
    throw new Error(
      `one parse took ${ms.toFixed(0)} ms (deadline ${PARSE_DEADLINE_MS} ms) for input ${JSON.stringify(input)?.slice(0, 300)}`,
    );
  }
  return outcome;
}

/** For parsers that report problems instead of throwing: the result, failing on any exception or a hang. */
export function withoutException<T>(parse: () => T, input: unknown): T {
  const outcome = resultOrTypedError(parse, () => false, input);
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

/** Arbitrary text: any unicode, control characters and invalid UTF-8 decoded as the parser would. */
export function anyText(maxLength = 400): fc.Arbitrary<string> {
  // Code points drawn as numbers: fast-check's 'binary' string unit spends seconds building a
  // reverse map of all of Unicode on first use.
  const codePoint = fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0, max: 0x10ffff }));
  return fc.oneof(
    fc.array(codePoint, { maxLength }).map((points) => String.fromCodePoint(...points)),
    fc.uint8Array({ maxLength }).map((bytes) => Buffer.from(bytes).toString('utf8')),
    fc.string({ unit: fc.constantFrom(...'\n\r\t ,:<>/="[]{}#-_.0123456789aAzZ'), maxLength }),
  );
}

type Edit = (text: string) => string;

/** One change of the kind a damaged or unexpected output has: cut, dropped, doubled, garbled. */
function editOf(): fc.Arbitrary<Edit> {
  const at = (text: string, n: number) => (text.length === 0 ? 0 : n % (text.length + 1));
  const lineEdit = (change: (lines: string[], i: number) => string[]) =>
    fc.nat().map(
      (n): Edit =>
        (text) => {
          const lines = text.split('\n');
          return change(lines, n % lines.length).join('\n');
        },
    );
  return fc.oneof(
    // Output cut short.
    fc.nat().map(
      (n): Edit =>
        (text) =>
          text.slice(0, at(text, n)),
    ),
    // A run of characters gone.
    fc.tuple(fc.nat(), fc.integer({ min: 1, max: 40 })).map(
      ([n, length]): Edit =>
        (text) =>
          text.slice(0, at(text, n)) + text.slice(at(text, n) + length),
    ),
    // Something inserted: junk, a delimiter, a placeholder nvidia-smi prints.
    fc
      .tuple(
        fc.nat(),
        fc.oneof(
          anyText(12),
          fc.constantFrom(',', '\n', '<', '>', '</gpu>', '[N/A]', 'N/A', ': ', '"', '{', '}', '\u0000'),
        ),
      )
      .map(
        ([n, insert]): Edit =>
          (text) =>
            text.slice(0, at(text, n)) + insert + text.slice(at(text, n)),
      ),
    // One character replaced.
    fc
      .tuple(
        fc.nat(),
        fc.integer({ min: 0, max: 0x10ffff }).map((point) => String.fromCodePoint(point)),
      )
      .map(
        ([n, char]): Edit =>
          (text) =>
            text.slice(0, at(text, n)) + char + text.slice(at(text, n) + 1),
      ),
    // A line dropped, doubled, or moved to the end.
    lineEdit((lines, i) => lines.filter((_, j) => j !== i)),
    lineEdit((lines, i) => [...lines.slice(0, i + 1), ...lines.slice(i)]),
    lineEdit((lines, i) => [...lines.filter((_, j) => j !== i), lines[i]!]),
  );
}

/** A real capture with one to four edits applied. */
export function mutationOf(text: string): fc.Arbitrary<string> {
  return fc
    .array(editOf(), { minLength: 1, maxLength: 4 })
    .map((edits) => edits.reduce((current, edit) => edit(current), text));
}

/**
 * Runs a property with the suite's settings: a run count sized for a 2-core machine, which
 * DS01_FUZZ_SCALE=50 multiplies for a long search before a change lands (each run draws a new seed,
 * so a rare counterexample the suite can reach shows up in CI sooner or later: hunt it here first).
 */
export function check<T>(arbitrary: fc.Arbitrary<T>, predicate: (value: T) => void, numRuns: number): void {
  const scale = Number(process.env.DS01_FUZZ_SCALE ?? 1);
  fc.assert(fc.property(arbitrary, predicate), { numRuns: Math.ceil(numRuns * scale) });
}

/**
 * YAML-shaped text: keys, scalars of every kind PyYAML and `yaml` read differently, flow and block
 * collections, anchors and aliases (including the exponential "billion laughs"), tags, merge keys.
 */
export function yamlish(keys: readonly string[]): fc.Arbitrary<string> {
  const scalar = fc.oneof(
    fc.constantFrom('1', '-1', '1.5', '1e3', '0x1f', '0o17', '.inf', '.nan', 'null', '~', 'yes', 'no', 'on'),
    fc.constantFrom(
      '2026-03-02',
      '12:30',
      '"quoted"',
      "'single'",
      '!!str 3',
      '!!int x',
      '!!binary AAAA',
      '[]',
      '{}',
    ),
    anyText(12),
  );
  const key = fc.oneof(fc.constantFrom(...keys), fc.constantFrom('<<', '? complex', '1', 'null'), anyText(8));
  const entry = fc.tuple(fc.nat(3), key, scalar).map(([depth, k, v]) => `${'  '.repeat(depth)}${k}: ${v}`);
  const laughs = fc.integer({ min: 2, max: 12 }).map(billionLaughs);
  const anchored = fc
    .tuple(key, scalar, key)
    .map(([k1, v, k2]) => `${k1}: &anchor\n  x: ${v}\n${k2}:\n  <<: *anchor\n  y: *anchor`);
  return fc.oneof(
    fc.array(entry, { maxLength: 12 }).map((lines) => lines.join('\n')),
    laughs,
    anchored,
    fc.array(fc.oneof(entry, laughs, anchored), { maxLength: 4 }).map((parts) => parts.join('\n')),
  );
}

/** YAML whose aliases nest `levels` deep, each level ten of the one below: 10^levels values. */
export function billionLaughs(levels: number): string {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < levels; i++)
    lines.push(
      `a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    );
  return lines.join('\n');
}

/** The JSON with the value at one path (picked by `pick`) replaced: a field missing, null, mistyped. */
export function replaceOne(document: unknown, pick: number, replacement: unknown): unknown {
  const paths: (string | number)[][] = [];
  const walk = (value: unknown, path: (string | number)[]) => {
    paths.push(path);
    if (value && typeof value === 'object')
      for (const [key, child] of Object.entries(value))
        walk(child, [...path, Array.isArray(value) ? Number(key) : key]);
  };
  walk(document, []);
  const path = paths[pick % paths.length]!;
  if (path.length === 0) return replacement;
  const copy = structuredClone(document) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (replacement === undefined) delete parent[last];
  else parent[last] = replacement;
  return copy;
}
