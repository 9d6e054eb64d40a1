import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anyText, billionLaughs, check, withoutException, yamlish } from '../../../../test/support/fuzz.ts';
import { PythonYaml } from '../../src/resourceLimits/pythonYaml.ts';

const FILE = 'resource-limits.yaml';

/** A document, or problems each naming the file and a line; locate() answers for any path. */
function readsOrReports(text: string, paths: (string | number)[][]): void {
  const value = withoutException(() => PythonYaml.parse(text, FILE), text);
  if (!(value instanceof PythonYaml)) {
    expect(value.problems.length).toBeGreaterThan(0);
    for (const p of value.problems)
      expect(p.file === FILE && p.line >= 0 && p.severity === 'error').toBe(true);
    return;
  }
  for (const path of paths) {
    expect(withoutException(() => value.locate(path), path).line).toBeGreaterThanOrEqual(0);
  }
}

const path = fc.array(fc.oneof(fc.constantFrom('defaults', 'groups', 'a0', 'x', '<<'), fc.nat(12)), {
  maxLength: 4,
});

describe('PythonYaml (yaml.safe_load as PyYAML reads it) on any input (property)', () => {
  it('nested aliases (a "billion laughs") are one problem of the file, not a ReferenceError', () => {
    expect(PythonYaml.parse(billionLaughs(4), FILE)).toEqual({
      problems: [
        expect.objectContaining({
          file: FILE,
          severity: 'error',
          message: expect.stringMatching(/expands aliases/),
        }),
      ],
    });
  });

  it('arbitrary text and bytes', () =>
    check(fc.tuple(anyText(), fc.array(path, { maxLength: 3 })), ([t, p]) => readsOrReports(t, p), 200));

  it('YAML-shaped text: PyYAML scalars, tags, anchors, aliases, merge keys', () =>
    check(
      fc.tuple(
        yamlish(['defaults', 'groups', 'default_group', 'max_cpus']),
        fc.array(path, { maxLength: 3 }),
      ),
      ([t, p]) => readsOrReports(t, p),
      200,
    ));
});
