import type { z } from 'zod';
import { nearest } from '../yamlFile.ts';
import { type LimitsProblem, problem } from './problems.ts';
import type { PythonYaml, YamlPath } from './pythonYaml.ts';

/**
 * Validates a YAML file's value against a zod schema and turns every issue into a problem at the
 * file:line:column where the value (or the unknown key) is written, saying what is expected (the
 * schema's description) and, for an unknown key, the nearest key valid at that place.
 */
export function validateYaml<Schema extends z.ZodType>(
  yaml: PythonYaml,
  schema: Schema,
  options: { keyPrefix?: string } = {},
): { data: z.output<Schema> | undefined; problems: LimitsProblem[] } {
  const result = schema.safeParse(yaml.value);
  if (result.success) return { data: result.data, problems: [] };
  const problems: LimitsProblem[] = [];
  const seen = new Set<string>();
  const dotted = (path: YamlPath) => [options.keyPrefix, ...path.map(String)].filter(Boolean).join('.');
  for (const issue of result.error.issues) {
    const path = issue.path as (string | number)[];
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(schema, path);
      for (const key of issue.keys) {
        const keyPath = [...path, key];
        const elsewhere = placesOf(schema, key).filter((place) => place !== dotted(keyPath));
        const message =
          elsewhere.length > 0
            ? `is not valid here; it belongs in ${elsewhere.join(' or ')}`
            : 'is not a key of this format (no version of ds01-infra knows it)';
        const suggestion = elsewhere.length > 0 ? undefined : nearest(key, known);
        problems.push(
          problem('error', yaml.locate(keyPath, 'key'), dotted(keyPath), message, {
            expected: known.length > 0 ? `one of ${known.join(', ')}` : undefined,
            suggestion,
          }),
        );
      }
      continue;
    }
    const key = dotted(path);
    if (seen.has(key)) continue;
    seen.add(key);
    const value = yaml.getIn(path);
    const expected = descriptionAt(schema, path) ?? issue.message;
    problems.push(
      problem('error', yaml.locate(path), key, `${describeFound(value)}; expected ${expected}`, {
        expected,
        found: value === undefined ? undefined : show(value),
      }),
    );
  }
  return { data: undefined, problems };
}

function describeFound(value: unknown): string {
  if (value === undefined) return 'is missing';
  if (typeof value === 'number' && value < 0) return `is negative (${show(value)})`;
  if (typeof value === 'number' && Number.isNaN(value)) return 'is .nan';
  return `is ${show(value)}`;
}

/** A value as a person would recognise it from the file. */
export function show(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Date) return `the date ${value.toISOString()}`;
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' && !Number.isFinite(value)) return value > 0 ? '.inf' : '-.inf';
  return String(value);
}

interface ZodDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  valueType?: z.ZodType;
  element?: z.ZodType;
  innerType?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
}

const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: ZodDef } })._zod.def;

/** A schema with every schema it wraps (optional, nullable, pipe) and, for a union, its options. */
function expand(schema: z.ZodType): z.ZodType[] {
  const def = defOf(schema);
  const inner = [def.innerType, def.in, ...(def.options ?? [])].filter(
    (s): s is z.ZodType => s !== undefined,
  );
  return [schema, ...inner.flatMap(expand)];
}

/** The schemas a value at `path` is checked against (outermost wrapper first; several for a union). */
function schemasAt(schema: z.ZodType, path: YamlPath): z.ZodType[] {
  const here = expand(schema);
  if (path.length === 0) return here;
  const [head, ...rest] = path;
  return here.flatMap((s) => {
    const def = defOf(s);
    const next =
      def.type === 'object'
        ? def.shape?.[String(head)]
        : def.type === 'record'
          ? def.valueType
          : def.type === 'array'
            ? def.element
            : undefined;
    return next ? schemasAt(next, rest) : [];
  });
}

function descriptionAt(schema: z.ZodType, path: YamlPath): string | undefined {
  return schemasAt(schema, path).find((s) => s.description)?.description;
}

/** The keys an object at `path` accepts. */
function keysAt(schema: z.ZodType, path: YamlPath): string[] {
  const shape = schemasAt(schema, path)
    .map((s) => defOf(s))
    .find((def) => def.type === 'object')?.shape;
  return shape ? Object.keys(shape) : [];
}

/** Every place (dotted, `<name>` for any map key) where `key` is a valid key; the three shortest. */
function placesOf(schema: z.ZodType, key: string): string[] {
  const places = new Set<string>();
  const visit = (s: z.ZodType, path: string[]) => {
    if (path.length > 6) return;
    for (const layer of expand(s)) {
      const def = defOf(layer);
      if (def.type === 'object' && def.shape) {
        for (const [name, child] of Object.entries(def.shape)) {
          if (name === key) places.add([...path, name].join('.'));
          visit(child, [...path, name]);
        }
      }
      if (def.type === 'record' && def.valueType) visit(def.valueType, [...path, '<name>']);
    }
  };
  visit(schema, []);
  return [...places].sort((a, b) => a.length - b.length).slice(0, 3);
}
