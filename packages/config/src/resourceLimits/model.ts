import type { GroupAssignment } from './membersFile.ts';
import type { LimitsProblem, Location } from './problems.ts';
import type { Aggregate, Exemption, LifecyclePolicies, ResourceLimitsFile } from './schema.ts';

/** Where one setting comes from: the key as written (an alias included) and the layer holding it. */
export interface SettingSource extends Location {
  /** The key as written in the file (e.g. `max_mig_instances` for the quota). */
  key: string;
  /** `defaults`, `groups.<name>`, `user_overrides.<user>` (inline) or `user-overrides.yaml: <user>`. */
  layer: string;
  /** Written as a YAML float (`1.0`): Python prints it with its `.0`. */
  float: boolean;
}

/**
 * One layer of per-user limits, as written: the `defaults`, one group's section (without
 * `members`) or one user's override. Values are validated; legacy keys are kept as written, since
 * ds01-infra resolves aliases only after merging the layers.
 */
export interface LimitsLayer {
  name: string;
  /** Where the layer is in its file, dotted (`groups.student`; `alice` in user-overrides.yaml). */
  path: string;
  values: Readonly<Record<string, unknown>>;
  sources: Readonly<Record<string, SettingSource>>;
}

export interface GroupDefinition {
  name: string;
  limits: LimitsLayer;
  /** groups/<name>.members ∪ the inline `members` list. */
  members: ReadonlySet<string>;
  /** Where each member is listed (the first place, when listed twice). */
  memberSources: ReadonlyMap<string, Location>;
  /** Absent or null: the group has no aggregate (admin): no per-user totals. */
  aggregate?: Aggregate | null;
  policies?: LifecyclePolicies;
}

export interface UserOverride {
  user: string;
  /** Where the override's key is written. */
  at: Location;
  limits: LimitsLayer;
  /** Absent: the aggregate of the user's group applies; null: none (no per-user totals). */
  aggregate?: Aggregate | null;
  policies?: LifecyclePolicies;
}

/** The lab's resource limits: every file read, validated and resolved the way ds01-infra resolves them. */
export interface ResourceLimits {
  /** The folder holding resource-limits.yaml. */
  configDir: string;
  /** sha256 of every file read, by path relative to configDir. */
  files: ReadonlyMap<string, string>;
  /** resource-limits.yaml as written (validated). */
  file: ResourceLimitsFile;
  defaults: LimitsLayer;
  /** `default_group`, or ds01-infra's `student` when the file names none. */
  defaultGroup: string;
  /** In the file's order: a user listed in two groups belongs to the first. */
  groups: readonly GroupDefinition[];
  /** user-overrides.yaml over the inline `user_overrides` (the file wins, per user, whole). */
  overrides: ReadonlyMap<string, UserOverride>;
  exemptions: readonly Exemption[];
  /** group-overrides.txt (read by ds01-infra's membership sync only). */
  groupAssignments: readonly GroupAssignment[];
  /** What the files mean, as ds01-infra reads them, though probably not what was meant. */
  warnings: readonly LimitsProblem[];
}
