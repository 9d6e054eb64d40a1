import { z } from 'zod';

/**
 * The pure diff of two configurations (JSON documents): which settings changed, by dotted path,
 * with the values before and after. Maps are compared key by key; anything else (numbers, text,
 * lists) is one value. Folding the diffs of a stream from {} gives the configuration back
 * (applyPolicyDiff), which is how ds01d knows what it last applied.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/** A configuration as compared: a map of JSON values. */
export type PolicySnapshot = { [key: string]: JsonValue };

/** One changed setting. `before` is absent when it was added, `after` when it was removed. */
export const PolicyDiffEntry = z.strictObject({
  /** Dotted path: `groups.student.max_gpu_equivalents`; a key that is not a plain name is quoted: `members["h.baker@x.lan"]`. */
  path: z.string().min(1),
  change: z.enum(['added', 'removed', 'changed']),
  before: z.json().optional(),
  after: z.json().optional(),
});
export type PolicyDiffEntry = z.infer<typeof PolicyDiffEntry>;

const plainName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `groups.student.members["h.baker@x.lan"]`: plain names dotted, any other key quoted as JSON. */
export function formatPolicyPath(path: readonly string[]): string {
  return path
    .map((key, i) => (plainName.test(key) ? `${i === 0 ? '' : '.'}${key}` : `[${JSON.stringify(key)}]`))
    .join('');
}

/** The keys of a path written by formatPolicyPath. */
export function parsePolicyPath(text: string): string[] {
  const keys: string[] = [];
  const token = /\.?([A-Za-z_][A-Za-z0-9_]*)|\[("(?:[^"\\]|\\.)*")\]/gy;
  while (token.lastIndex < text.length) {
    const match = token.exec(text);
    if (!match) break;
    keys.push(match[1] ?? (JSON.parse(match[2]!) as string));
  }
  if (token.lastIndex !== text.length || keys.length === 0) throw new Error(`not a policy path: ${text}`);
  return keys;
}

const isMap = (value: JsonValue | undefined): value is { [key: string]: JsonValue } =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Every setting that differs between two configurations, in the order of their keys. */
export function diffPolicies(before: PolicySnapshot, after: PolicySnapshot): PolicyDiffEntry[] {
  const entries: PolicyDiffEntry[] = [];
  const visit = (a: JsonValue | undefined, b: JsonValue | undefined, path: string[]) => {
    if (isMap(a) && isMap(b)) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)]))
        visit(a[key], b[key], [...path, key]);
      return;
    }
    if (a === undefined && b === undefined) return;
    const where = formatPolicyPath(path);
    if (a === undefined) entries.push({ path: where, change: 'added', after: b });
    else if (b === undefined) entries.push({ path: where, change: 'removed', before: a });
    else if (!sameJson(a, b)) entries.push({ path: where, change: 'changed', before: a, after: b });
  };
  visit(before, after, []);
  return entries;
}

/** The configuration a diff leads to from `snapshot` (which is left as it is). */
export function applyPolicyDiff(snapshot: PolicySnapshot, diff: readonly PolicyDiffEntry[]): PolicySnapshot {
  const result = structuredClone(snapshot);
  for (const entry of diff) {
    const keys = parsePolicyPath(entry.path);
    const last = keys.pop()!;
    let map: { [key: string]: JsonValue } = result;
    for (const key of keys) {
      const next = map[key];
      if (!isMap(next)) map[key] = {};
      map = map[key] as { [key: string]: JsonValue };
    }
    if (entry.change === 'removed') delete map[last];
    else map[last] = structuredClone(entry.after as JsonValue);
  }
  return result;
}

function sameJson(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => sameJson(x, b[i]!));
  const aKeys = Object.keys(a);
  const bMap = b as { [key: string]: JsonValue };
  return (
    aKeys.length === Object.keys(bMap).length &&
    aKeys.every((k) => k in bMap && sameJson((a as { [key: string]: JsonValue })[k]!, bMap[k]!))
  );
}
