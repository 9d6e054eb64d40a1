import type { JsonValue, PolicySnapshot } from '@ds01/domain';
import type { ResourceLimits } from './model.ts';

/**
 * The lab's resource limits as one JSON document, for comparing two versions (PolicyChanged's
 * diff): every section as written (validated), with members resolved to `members.<user>: <group>`
 * (the group ds01-infra puts them in) and the overrides merged from both places. Where a value was
 * written (line numbers) is left out: moving a line changes nothing.
 */
export function policySnapshot(config: ResourceLimits): PolicySnapshot {
  const {
    defaults: _defaults,
    groups: _groups,
    user_overrides: _inline,
    default_group: _dg,
    ...sections
  } = config.file;
  const members: Record<string, string> = {};
  for (const group of config.groups) {
    for (const user of group.members) members[user] ??= group.name;
  }
  return toJson({
    ...sections,
    default_group: config.defaultGroup,
    defaults: config.defaults.values,
    groups: Object.fromEntries(config.groups.map((g) => [g.name, g.limits.values])),
    members: sortedObject(members),
    user_overrides: sortedObject(
      Object.fromEntries([...config.overrides].map(([user, o]) => [user, o.limits.values])),
    ),
    exemptions: config.exemptions,
    group_assignments: sortedObject(
      Object.fromEntries(config.groupAssignments.map((a) => [a.user, a.group])),
    ),
  }) as PolicySnapshot;
}

function sortedObject<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Dates become ISO text, undefined values are left out, as JSON.stringify would. */
function toJson(value: unknown): JsonValue {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === 'object') {
    const result: { [key: string]: JsonValue } = {};
    for (const [key, inner] of Object.entries(value)) if (inner !== undefined) result[key] = toJson(inner);
    return result;
  }
  return (value ?? null) as JsonValue;
}
