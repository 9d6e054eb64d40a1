import { relative } from 'node:path';
import {
  describeProblem,
  type EffectiveLimits,
  effectiveLimits,
  type GetResourceLimitsJson,
  inspectResourceLimits,
  type LimitName,
  type LimitsProblem,
  type NamedAccount,
  readConfigFiles,
  type SettingSource,
  toGetResourceLimitsJson,
  unknownAccountProblems,
} from '@ds01/config';
import { knownAccountNames } from '@ds01/host';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { terminalSafe } from '../output/terminalText.ts';

interface CheckOptions {
  user?: string;
  json?: boolean;
  allowWarnings?: boolean;
  /** false with --no-accounts. */
  accounts?: boolean;
}

/** Which setting each key of get_resource_limits.py's JSON shows (for the "from" column). */
const settingOf: Record<Exclude<keyof GetResourceLimitsJson, 'group'>, LimitName> = {
  max_gpus: 'max_gpu_equivalents',
  max_gpus_per_container: 'max_gpu_slots_per_container',
  max_containers: 'max_containers_per_user',
  cpu_cores: 'max_cpus',
  memory: 'memory',
  storage_workspace: 'storage_workspace',
  idle_timeout: 'idle_timeout_h',
  gpu_hold: 'gpu_hold_after_stop_h',
  container_hold: 'container_hold_after_stop_h',
  max_runtime: 'max_runtime_h',
};

export function register(program: Command, context: CliContext): void {
  const config = program
    .command('config')
    .description("the lab's resource limits: check the files, see what a user gets");
  config
    .command('check')
    .description("validate the resource limits in DIR and show a user's effective limits")
    .argument('[dir]', 'folder holding resource-limits.yaml (default: the configuration dir)')
    .option('--user <name>', "also show this user's effective limits")
    .option('--json', 'one JSON document; with --user, the keys of get_resource_limits.py USER --json')
    .option('--allow-warnings', 'exit 0 when there are warnings but no errors')
    .option('--no-accounts', "do not look the usernames up in this host's user database (checking elsewhere)")
    .addHelpText(
      'after',
      `
Reads resource-limits.yaml and the files beside it as ds01-infra does: groups/<group>.members,
user-overrides.yaml, lifecycle-exemptions.yaml and group-overrides.txt. DIR may also be a
ds01-infra checkout (/opt/ds01-infra) or its config/ folder.

Every problem is printed as file:line:column, the key, what is wrong and what is expected
("did you mean ..." for a misspelled key). Errors (unknown key, wrong type, negative number,
unknown group, two usernames that make the same cgroup slice) make DS01 refuse the files;
warnings (a user in two groups, a key that has no effect, a username this host's user database
does not know) are applied as ds01-infra would, but fail this check until fixed. Checking the
files on another machine than the lab's: --no-accounts skips the user database.
Exit code: 0 all good, 1 errors or warnings (warnings alone: 0 with --allow-warnings).

Examples:
  ds01 config check                                check the configuration dir
  ds01 config check /opt/ds01-infra/config/runtime check ds01-infra's files before moving
  ds01 config check --user h.baker@hertie-school.lan
  ds01 config check --user alice --json            exactly what get_resource_limits.py alice --json prints`,
    )
    .action(async (dir: string | undefined, options: CheckOptions) => {
      const files = readConfigFiles(dir ?? context.config().paths.configDir);
      const { config: limits, problems, accounts } = inspectResourceLimits(files);
      if (options.accounts !== false) problems.push(...(await accountProblems(accounts)));
      const errors = problems.filter((p) => p.severity === 'error');
      const warnings = problems.filter((p) => p.severity === 'warning');
      const effective =
        limits && options.user !== undefined ? effectiveLimits(limits, options.user) : undefined;
      const { output } = context;

      if (options.json && effective) {
        // stdout stays the JSON of get_resource_limits.py; warnings go to stderr.
        output.json(toGetResourceLimitsJson(effective));
        for (const warning of warnings) process.stderr.write(`${terminalSafe(describeProblem(warning))}\n`);
      } else if (options.json) {
        output.json({
          configDir: files.dir,
          files: [...files.sha256.keys()],
          valid: errors.length === 0,
          errors,
          warnings,
        });
      } else {
        for (const p of problems) output.line(describeProblem(p));
        if (problems.length > 0) output.line();
        output.line(summary(files.dir, [...files.sha256.keys()], errors, warnings));
        if (effective) {
          output.line();
          showLimits(context, effective, files.dir);
        }
      }

      if (errors.length > 0 || (warnings.length > 0 && !options.allowWarnings)) {
        throw new CliError(
          `the resource limits in ${files.dir} have ${count(errors, 'error')}, ${count(warnings, 'warning')}`,
          {
            hint:
              errors.length > 0
                ? 'fix each error at the file:line:column shown; ds01d keeps the last valid configuration until then'
                : 'the warnings are applied as ds01-infra would; fix them, or pass --allow-warnings',
          },
        );
      }
      if (options.user !== undefined && !effective) {
        throw new CliError(`cannot show the limits of ${options.user}: the files have errors`);
      }
    });
}

/** Usernames the host's user database does not know (none said when getent cannot answer). */
async function accountProblems(named: readonly NamedAccount[]): Promise<LimitsProblem[]> {
  const known = await knownAccountNames(named.map((n) => n.user));
  return known ? unknownAccountProblems(named, known) : [];
}

function summary(dir: string, files: string[], errors: LimitsProblem[], warnings: LimitsProblem[]): string {
  const read = `${files.length} file${files.length === 1 ? '' : 's'} read`;
  if (errors.length === 0 && warnings.length === 0) return `${dir}: valid (${read}: ${files.join(', ')})`;
  return `${dir}: ${count(errors, 'error')}, ${count(warnings, 'warning')} (${read})`;
}

function count(items: readonly unknown[], noun: string): string {
  return `${items.length} ${noun}${items.length === 1 ? '' : 's'}`;
}

/** The user's limits under get_resource_limits.py's keys, and where each value comes from. */
function showLimits(context: CliContext, limits: EffectiveLimits, dir: string): void {
  const json = toGetResourceLimitsJson(limits);
  const from = (source: SettingSource | undefined) =>
    source
      ? `${relative(dir, source.file) || source.file}:${source.line}  ${source.layer}.${source.key}`
      : 'built-in default';
  const how =
    limits.matchedBy === 'override'
      ? `user override (member of ${limits.memberOf})`
      : limits.matchedBy === 'members'
        ? `listed in ${limits.group}`
        : 'in no members list: the default group';
  const rows: { key: string; value: string; from: string }[] = [
    { key: 'group', value: json.group, from: how },
    ...Object.entries(settingOf).map(([key, name]) => ({
      key,
      value: json[key as keyof typeof settingOf],
      from: from(limits.sources[name]),
    })),
    {
      key: 'allow_full_gpu',
      value: String(limits.allow_full_gpu),
      from: from(limits.sources.allow_full_gpu),
    },
    { key: 'priority', value: String(limits.priority), from: from(limits.sources.priority) },
    {
      key: 'aggregate_gpu_limit',
      value: limits.aggregate ? String(limits.aggregate.gpu_limit ?? 'unlimited') : 'none',
      from: from(limits.sources.aggregate),
    },
    { key: 'cgroup_parent', value: limits.cgroupParent, from: `sanitized name ${limits.sanitizedUser}` },
  ];
  context.output.line(`Effective limits of ${limits.user}:`);
  context.output.table(
    [
      { header: 'key', value: (row) => row.key },
      { header: 'value', value: (row) => row.value },
      { header: 'from', value: (row) => row.from },
    ],
    rows,
  );
}
