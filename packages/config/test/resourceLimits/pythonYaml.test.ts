import { describe, expect, it } from 'vitest';
import { PythonYaml } from '../../src/resourceLimits/pythonYaml.ts';
import { runPython, unavailableReason } from './ds01InfraParser.ts';

/** YAML is read as PyYAML's safe_load reads it (YAML 1.1 with PyYAML's implicit types). */
function load(text: string): unknown {
  const parsed = PythonYaml.parse(text, 'test.yaml');
  if (!(parsed instanceof PythonYaml)) throw new Error(parsed.problems.map((p) => p.message).join('; '));
  return parsed.value;
}

/** Scalars where YAML 1.1 readers disagree, or where 1.1 differs from 1.2. */
const scalars = [
  'yes',
  'No',
  'ON',
  'off',
  'y',
  'n',
  'Y',
  'true',
  'False',
  '~',
  'null',
  'NULL',
  '',
  '0123',
  '09',
  '0o17',
  '0x1F',
  '0b101',
  '1_000',
  '1:30',
  '-1:30:00',
  '190:20:30',
  '1.0',
  '1.',
  '.5',
  '1e3',
  '1.5e3',
  '1.5e+3',
  '1.0e-05',
  '.inf',
  '-.Inf',
  '+1',
  '-0',
  '1:30.5',
  '32g',
  '9600%',
  '0.5h',
  '2026-06-30',
  '2026-06-30T23:59:59Z',
  '2026-6-3 1:02:03.5 +01:00',
  '=',
  '<<x',
];

describe('PyYAML 1.1 scalars', () => {
  it.each([
    ['y', 'y'],
    ['n', 'n'],
    ['yes', true],
    ['off', false],
    ['1e3', '1e3'],
    ['1.5e+3', 1500],
    ['09', '09'],
    ['0123', 83],
    ['1:30', 90],
    ['1_000', 1000],
    ['~', null],
  ])('%s reads as %o', (scalar, value) => {
    expect(load(`key: ${scalar}\n`)).toEqual({ key: value });
  });

  it('keeps whether a number was written as a float', () => {
    const parsed = PythonYaml.parse('a: 1\nb: 1.0\nc: 1.5e+3\ne: &x 2.0\nd: *x\n', 't');
    if (!(parsed instanceof PythonYaml)) throw new Error('parse failed');
    expect([
      parsed.isFloat(['a']),
      parsed.isFloat(['b']),
      parsed.isFloat(['c']),
      parsed.isFloat(['d']),
    ]).toEqual([false, true, true, true]);
  });

  it('merge keys: keys written in the map win over merged ones; their place is the anchor', () => {
    const text = 'base: &b\n  a: 1\n  b: 2.0\nthis:\n  <<: *b\n  a: 3\n';
    const parsed = PythonYaml.parse(text, 't.yaml');
    if (!(parsed instanceof PythonYaml)) throw new Error('parse failed');
    expect(parsed.value).toEqual({ base: { a: 1, b: 2 }, this: { a: 3, b: 2 } });
    expect(parsed.isFloat(['this', 'b'])).toBe(true);
    expect(parsed.locate(['this', 'b'])).toEqual({ file: 't.yaml', line: 3, column: 6 });
    expect(parsed.duplicateKeys()).toEqual([]);
  });

  const reason = unavailableReason();
  it.skipIf(reason !== undefined)(
    `every scalar reads as PyYAML reads it${reason ? ` (skipped: ${reason})` : ''}`,
    () => {
      const python = runPython(
        `import yaml, datetime\ndef convert(text):\n    try:\n        v = yaml.safe_load("key: " + text)["key"]\n    except Exception as e:\n        return {"error": type(e).__name__}\n    if isinstance(v, datetime.datetime):\n        if v.tzinfo is None: v = v.replace(tzinfo=datetime.timezone.utc)\n        return {"date": v.astimezone(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")}\n    if isinstance(v, datetime.date): return {"date": v.isoformat() + "T00:00:00.000Z"}\n    if isinstance(v, float) and v != v: return {"nan": True}\n    if isinstance(v, float) and v in (float("inf"), float("-inf")): return {"inf": v > 0}\n    return {"value": v, "type": type(v).__name__}`,
        scalars,
      );
      const ours = scalars.map((scalar) => {
        let value: unknown;
        try {
          value = load(`key: ${scalar}\n`);
        } catch {
          return { error: true };
        }
        const v = (value as { key: unknown }).key;
        if (v instanceof Date) return { date: v.toISOString() };
        if (typeof v === 'number' && Number.isNaN(v)) return { nan: true };
        if (typeof v === 'number' && !Number.isFinite(v)) return { inf: v > 0 };
        return { value: v };
      });
      const comparable = python.map((p) => {
        const entry = p as { value?: unknown; type?: string; error?: string };
        if (entry.error) return { error: true };
        if ('type' in entry) return { value: entry.value };
        return entry;
      });
      // '=' is PyYAML's `value` tag, which safe_load cannot construct: DS01 reads it as text instead.
      const skip = new Set(['=']);
      expect(ours.filter((_, i) => !skip.has(scalars[i]!))).toEqual(
        comparable.filter((_, i) => !skip.has(scalars[i]!)),
      );
    },
  );
});
