import { join } from 'node:path';
import type { z } from 'zod';
import { ConfigError, nearest } from '../yamlFile.ts';
import { accountNameProblems, type NamedAccount, namedAccounts } from './accountNames.ts';
import {
  type ConfigFiles,
  exemptionsFile,
  groupOverridesFile,
  groupsDir,
  limitsFile,
  membersFileOf,
  readConfigFiles,
  userOverridesFile,
} from './configFiles.ts';
import { aliasLists, parseLegacyDuration, renamedKeys } from './keys.ts';
import { type Member, parseGroupOverridesFile, parseMembersFile } from './membersFile.ts';
import type { GroupDefinition, LimitsLayer, ResourceLimits, SettingSource, UserOverride } from './model.ts';
import { type LimitsProblem, type Location, problem } from './problems.ts';
import { pythonStr } from './pythonFormat.ts';
import { PythonYaml, type YamlPath } from './pythonYaml.ts';
import {
  type Exemption,
  ExemptionsFile,
  type Group,
  type Override,
  ResourceLimitsFile,
  UserOverridesFile,
} from './schema.ts';
import { show, validateYaml } from './validate.ts';

/** ds01-infra's group for a user in no members list, when the file names no `default_group`. */
const builtInDefaultGroup = 'student';
/** The group name ds01-infra gives users with an override (their slice is ds01-override-<user>.slice). */
const overrideGroup = 'override';

/**
 * Reads and validates the lab's resource limits in `configDir` (a folder holding
 * resource-limits.yaml, or a ds01-infra checkout or its config/ folder). Throws a ConfigError
 * listing every error with file:line:column; warnings are on the result.
 */
export function loadResourceLimits(configDir: string): ResourceLimits {
  return resolveResourceLimits(readConfigFiles(configDir));
}

/** As loadResourceLimits, from files already read. */
export function resolveResourceLimits(files: ConfigFiles): ResourceLimits {
  const { config, problems } = inspectResourceLimits(files);
  if (!config) {
    throw new ConfigError(
      problems.filter((p) => p.severity === 'error'),
      `fix the files, then check them with: ds01 config check ${files.dir}`,
    );
  }
  return config;
}

/**
 * Every problem of the files (errors and warnings) and, when there is no error, the resolved
 * limits. Never throws: `ds01 config check` and the policy watcher report what it finds.
 */
export function inspectResourceLimits(files: ConfigFiles): {
  config: ResourceLimits | undefined;
  problems: LimitsProblem[];
  /** Every username the files name (also when they have errors), for checks against the host. */
  accounts: NamedAccount[];
} {
  const reader = new FilesReader(files);
  const config = reader.resolve();
  const problems = reader.problems;
  const hasErrors = problems.some((p) => p.severity === 'error');
  return { config: hasErrors ? undefined : config, problems, accounts: reader.accounts };
}

/** Reads the files one by one, collecting problems; resolve() builds the model from what is valid. */
class FilesReader {
  readonly problems: LimitsProblem[] = [];
  accounts: NamedAccount[] = [];
  readonly #files: ConfigFiles;

  constructor(files: ConfigFiles) {
    this.#files = files;
  }

  resolve(): ResourceLimits | undefined {
    const limits = this.#readYaml(limitsFile, ResourceLimitsFile, { required: true });
    const overrideFile = this.#readYaml(userOverridesFile, UserOverridesFile);
    const exemptionYaml = this.#readYaml(exemptionsFile, ExemptionsFile);
    for (const [name, why] of this.#files.unreadable) {
      const severity = name.endsWith('.members') ? 'warning' : 'error';
      const consequence =
        severity === 'warning'
          ? '; ds01-infra then uses only the inline members of the group (run as root)'
          : '';
      this.problems.push(problem(severity, this.#whole(name), '', `cannot be read: ${why}${consequence}`));
    }
    for (const [name, why] of this.#files.refused) {
      this.problems.push(problem('error', this.#whole(name), '', why));
    }
    if (!limits) return undefined;
    // With errors in the file, the checks across files still run on its well-formed parts, so
    // that one run reports every problem; the result is then not used.
    const file = limits.data ?? wellFormedParts(limits.yaml.value);
    const groups = this.#groups(limits.yaml, file);
    const defaultGroup = this.#defaultGroup(limits.yaml, file, groups);
    const overrides = this.#overrides(limits.yaml, file, overrideFile);
    const defaults = layer('defaults', limits.yaml, ['defaults'], file.defaults ?? {});
    this.#checkAliases(defaults, [
      ...groups.map((g) => g.limits),
      ...[...overrides.values()].map((o) => o.limits),
    ]);
    this.#checkRenamedKeys(limits.yaml, file);
    this.#checkUserInTwoGroups(groups);
    this.accounts = namedAccounts(groups, overrides);
    this.problems.push(...accountNameProblems(this.accounts));
    const groupAssignments = this.#groupAssignments(groups);
    const exemptions = this.#exemptions(exemptionYaml);
    return {
      configDir: this.#files.dir,
      files: this.#files.sha256,
      file,
      defaults,
      defaultGroup,
      groups,
      overrides,
      exemptions,
      groupAssignments,
      warnings: this.problems.filter((p) => p.severity === 'warning'),
    };
  }

  /** Parses and validates one YAML file; undefined when it is absent (and not required) or broken. */
  #readYaml<Schema extends z.ZodType>(
    name: string,
    schema: Schema,
    options: { required?: boolean } = {},
  ): { yaml: PythonYaml; data: z.output<Schema> | undefined } | undefined {
    const text = this.#files.texts.get(name);
    const displayName = this.#display(name);
    if (text === undefined) {
      if (options.required && !this.#files.unreadable.has(name) && !this.#files.refused.has(name)) {
        this.problems.push(problem('error', this.#whole(name), '', 'does not exist'));
      }
      return undefined;
    }
    // PyYAML drops a byte-order mark at the start of a YAML stream.
    const parsed = PythonYaml.parse(text.replace(/^\ufeff/, ''), displayName);
    if (!(parsed instanceof PythonYaml)) {
      this.problems.push(...parsed.problems);
      return undefined;
    }
    for (const duplicate of parsed.duplicateKeys()) {
      this.problems.push(
        problem(
          'warning',
          duplicate.second,
          duplicate.path.join('.'),
          `is written twice; ds01-infra (PyYAML) keeps this later one and ignores line ${duplicate.first.line}`,
          { related: [duplicate.first] },
        ),
      );
    }
    if (options.required && parsed.value === null) {
      this.problems.push(
        problem('error', this.#whole(name), '', 'is empty', { expected: 'a map of resource-limit sections' }),
      );
      return undefined;
    }
    const { data, problems } = validateYaml(parsed, schema);
    this.problems.push(...problems);
    return { yaml: parsed, data };
  }

  #groups(yaml: PythonYaml, file: ResourceLimitsFile): GroupDefinition[] {
    this.#refuseNonTextKeys(yaml, ['groups'], 'a group name');
    const sections = Object.entries(file.groups ?? {});
    const definitions = sections.map(([name, section]) => this.#group(yaml, name, section));
    const known = new Set(sections.map(([name]) => name));
    for (const membersName of this.#files.texts.keys()) {
      const match = new RegExp(`^${groupsDir}/(.+)\\.members$`).exec(membersName);
      const group = match?.[1];
      // archived.members lists users who left; ds01-infra's sync reads it, its parser does not.
      if (!group || known.has(group) || group === 'archived') continue;
      const suggestion = nearest(group, [...known]);
      this.problems.push(
        problem(
          'warning',
          this.#whole(membersName),
          group,
          `names a group that ${limitsFile} does not define; ds01-infra ignores this file`,
          {
            expected: `one of ${[...known, 'archived'].join(', ')}`,
            suggestion,
          },
        ),
      );
    }
    return definitions;
  }

  #group(yaml: PythonYaml, name: string, section: Group): GroupDefinition {
    const path = ['groups', name];
    // Python's \w, as ds01-infra's slice pattern ds01-(\w+)-(.+).slice reads it: letters of any script.
    if (!/^[\p{L}\p{N}_]+$/u.test(name) || name === overrideGroup) {
      this.problems.push(
        problem(
          'error',
          yaml.locate(path, 'key'),
          `groups.${name}`,
          name === overrideGroup
            ? 'is the name ds01-infra gives users with an override (ds01-override-<user>.slice); choose another'
            : name.includes('-')
              ? "contains '-', which systemd reads as a level of the slice hierarchy (ds01-<group>-<user>.slice)"
              : 'is no group name: a slice (ds01-<group>-<user>.slice) and a file (groups/<group>.members) are made of it',
          { expected: "a group name of letters, digits and '_'" },
        ),
      );
    }
    const memberList: Member[] = (section.members ?? []).map((user, index) => ({
      user,
      at: yaml.locate([...path, 'members', index]),
    }));
    const membersName = membersFileOf(name);
    const text = this.#files.texts.get(membersName);
    if (text !== undefined) {
      const parsed = parseMembersFile(text, this.#display(membersName));
      this.problems.push(...parsed.problems);
      memberList.unshift(...parsed.members);
    }
    const memberSources = new Map<string, Location>();
    for (const member of memberList)
      if (!memberSources.has(member.user)) memberSources.set(member.user, member.at);
    const { members: _members, ...limits } = section;
    return {
      name,
      limits: layer(`groups.${name}`, yaml, path, limits),
      members: new Set(memberSources.keys()),
      memberSources,
      ...('aggregate' in section ? { aggregate: section.aggregate ?? null } : {}),
      ...(section.policies ? { policies: section.policies } : {}),
    };
  }

  #defaultGroup(yaml: PythonYaml, file: ResourceLimitsFile, groups: readonly GroupDefinition[]): string {
    const named = file.default_group;
    if (named === undefined) return builtInDefaultGroup;
    const known = groups.map((g) => g.name);
    if (!known.includes(named)) {
      this.problems.push(
        problem(
          'error',
          yaml.locate(['default_group']),
          'default_group',
          `names the group ${show(named)}, which groups: does not define`,
          {
            expected: known.length > 0 ? `one of ${known.join(', ')}` : 'a group defined under groups:',
            found: named,
            suggestion: nearest(named, known),
          },
        ),
      );
    }
    return named;
  }

  #overrides(
    yaml: PythonYaml,
    file: ResourceLimitsFile,
    overrideFile: { yaml: PythonYaml; data: Record<string, Override> | null | undefined } | undefined,
  ): Map<string, UserOverride> {
    this.#refuseNonTextKeys(yaml, ['user_overrides'], 'a username');
    const overrides = new Map<string, UserOverride>();
    for (const [user, section] of Object.entries(file.user_overrides ?? {})) {
      overrides.set(user, override(user, `user_overrides.${user}`, yaml, ['user_overrides', user], section));
    }
    if (overrideFile) {
      this.#refuseNonTextKeys(overrideFile.yaml, [], 'a username');
      for (const [user, section] of Object.entries(overrideFile.data ?? {})) {
        overrides.set(
          user,
          override(user, `${userOverridesFile}: ${user}`, overrideFile.yaml, [user], section),
        );
      }
    }
    return overrides;
  }

  /** A username or group written as a number (`204214:`) is an int in YAML 1.1: ds01-infra never matches it. */
  #refuseNonTextKeys(yaml: PythonYaml, path: YamlPath, what: string): void {
    for (const { key, type, at } of yaml.nonTextKeys(path)) {
      this.problems.push(
        problem(
          'error',
          at,
          [...path, key].join('.'),
          `is read as a ${type} by YAML 1.1, so ds01-infra never matches it`,
          {
            expected: `${what} as text: quote it, e.g. "${key}":`,
            found: key,
          },
        ),
      );
    }
  }

  /**
   * ds01-infra merges a layer over the defaults and then reads the FIRST key present of each alias
   * list: a group's `max_mig_instances: 4` is ignored when the defaults have `max_gpu_equivalents`.
   * DS01 does the same, and says so.
   */
  #checkAliases(defaults: LimitsLayer, layers: readonly LimitsLayer[]): void {
    for (const aliases of aliasLists) {
      for (const target of [defaults, ...layers]) {
        const merged = target === defaults ? defaults.sources : { ...defaults.sources, ...target.sources };
        const winner = aliases.find((key) => key in merged);
        for (const key of aliases) {
          const source = target.sources[key];
          if (!source || key === winner || !winner) continue;
          const shadow = merged[winner]!;
          this.problems.push(
            problem(
              'warning',
              source,
              `${target.path}.${key}`,
              `has no effect: ds01-infra reads ${winner} first (${shadow.layer}, line ${shadow.line}), even when it is null`,
              {
                expected: `the same key as ${shadow.layer}: ${winner}`,
                suggestion: winner,
                related: [shadow],
              },
            ),
          );
        }
      }
    }
  }

  /** Keys whose unit moved into the name in 2026-04 with no alias: ds01-infra ignores the old names. */
  #checkRenamedKeys(yaml: PythonYaml, file: ResourceLimitsFile): void {
    const sections: [YamlPath, Record<string, unknown> | null | undefined, string][] = [
      [['defaults'], file.defaults, 'limits'],
      ...Object.entries(file.groups ?? {}).map(([g, s]): [YamlPath, Record<string, unknown>, string] => [
        ['groups', g],
        s,
        'limits',
      ]),
      ...Object.entries(file.user_overrides ?? {}).map(
        ([u, s]): [YamlPath, Record<string, unknown>, string] => [['user_overrides', u], s, 'limits'],
      ),
      ...Object.entries(file.container_types ?? {}).map(
        ([t, s]): [YamlPath, Record<string, unknown> | null, string] => [
          ['container_types', t],
          s,
          'containerType',
        ],
      ),
      [['policies'], file.policies, 'policies'],
      [['bare_metal_access'], file.bare_metal_access, 'bareMetal'],
    ];
    for (const [path, section, kind] of sections) {
      for (const [key, value] of Object.entries(section ?? {})) {
        const renamed = renamedKeys[kind]?.[key];
        if (!renamed) continue;
        const seconds = parseLegacyDuration(value);
        const perUnit = { h: 3600, m: 60, s: 1 }[renamed.unit];
        const replacement = seconds < 0 ? 'null' : pythonStr(seconds / perUnit);
        this.problems.push(
          problem(
            'warning',
            yaml.locate([...path, key], 'key'),
            [...path, key].join('.'),
            `is no longer read (renamed to ${renamed.to} in 2026-04, without an alias): this setting has no effect`,
            { expected: `${renamed.to}: ${replacement}`, suggestion: renamed.to },
          ),
        );
      }
    }
  }

  /** ds01-infra puts a user listed in two groups in the first one (file order) without a word. */
  #checkUserInTwoGroups(groups: readonly GroupDefinition[]): void {
    const firstGroup = new Map<string, GroupDefinition>();
    for (const group of groups) {
      for (const user of group.members) {
        const first = firstGroup.get(user);
        if (!first) {
          firstGroup.set(user, group);
          continue;
        }
        const here = group.memberSources.get(user)!;
        const there = first.memberSources.get(user)!;
        this.problems.push(
          problem(
            'warning',
            here,
            user,
            `is a member of both ${first.name} and ${group.name}; ds01-infra (and DS01) use ${first.name}, the first in ${limitsFile}`,
            {
              expected: 'each user in one group: remove the line from the group they should not be in',
              related: [there],
            },
          ),
        );
      }
    }
  }

  #groupAssignments(groups: readonly GroupDefinition[]) {
    const text = this.#files.texts.get(groupOverridesFile);
    if (text === undefined) return [];
    const { assignments, problems } = parseGroupOverridesFile(text, this.#display(groupOverridesFile));
    this.problems.push(...problems);
    const known = [...groups.map((g) => g.name), 'archived'];
    for (const assignment of assignments) {
      if (known.includes(assignment.group)) continue;
      this.problems.push(
        problem(
          'error',
          assignment.at,
          assignment.user,
          `assigns the unknown group ${show(assignment.group)}`,
          {
            expected: `one of ${known.join(', ')}`,
            found: assignment.group,
            suggestion: nearest(assignment.group, known),
          },
        ),
      );
    }
    return assignments;
  }

  #exemptions(
    exemptions:
      | { yaml: PythonYaml; data: { exemptions?: Exemption[] | null } | null | undefined }
      | undefined,
  ) {
    if (!exemptions?.data) return [];
    const list = exemptions.data.exemptions ?? [];
    list.forEach((exemption, index) => {
      if (exemption.expires_on instanceof Date) {
        this.problems.push(
          problem(
            'warning',
            exemptions.yaml.locate(['exemptions', index, 'expires_on']),
            `exemptions.${index}.expires_on`,
            'is an unquoted YAML timestamp: ds01-infra then ignores every exemption after this one (DS01 reads it)',
            {
              expected: `a quoted date and time: "${exemption.expires_on.toISOString().replace('.000Z', 'Z')}"`,
            },
          ),
        );
      }
    });
    return list;
  }

  #display(name: string): string {
    return join(this.#files.dir, name);
  }

  #whole(name: string): Location {
    return { file: this.#display(name), line: 0, column: 0 };
  }
}

const isMap = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);

/** The parts of an invalid resource-limits.yaml the checks across files can read safely. */
function wellFormedParts(value: unknown): ResourceLimitsFile {
  if (!isMap(value)) return {};
  const sections = (section: unknown) =>
    isMap(section) ? Object.fromEntries(Object.entries(section).filter(([, s]) => isMap(s))) : {};
  const groups = Object.fromEntries(
    Object.entries(sections(value['groups'])).map(([name, group]) => {
      const { members, ...rest } = group as Record<string, unknown>;
      const names = Array.isArray(members) ? members.filter((m): m is string => typeof m === 'string') : [];
      return [name, { ...rest, members: names }];
    }),
  );
  return {
    defaults: isMap(value['defaults']) ? value['defaults'] : {},
    ...(typeof value['default_group'] === 'string' ? { default_group: value['default_group'] } : {}),
    groups,
    user_overrides: sections(value['user_overrides']),
  } as ResourceLimitsFile;
}

/** A layer of limits with the source of each key. */
function layer(name: string, yaml: PythonYaml, path: YamlPath, values: Record<string, unknown>): LimitsLayer {
  const sources: Record<string, SettingSource> = {};
  for (const key of Object.keys(values)) {
    sources[key] = {
      ...yaml.locate([...path, key], 'key'),
      key,
      layer: name,
      float: yaml.isFloat([...path, key]),
    };
  }
  return { name, path: path.join('.'), values, sources };
}

function override(
  user: string,
  name: string,
  yaml: PythonYaml,
  path: YamlPath,
  section: Override,
): UserOverride {
  return {
    user,
    at: yaml.locate(path, 'key'),
    limits: layer(name, yaml, path, section),
    ...('aggregate' in section ? { aggregate: section.aggregate ?? null } : {}),
    ...(section.policies ? { policies: section.policies } : {}),
  };
}
