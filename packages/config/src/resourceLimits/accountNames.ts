import type { ResourceLimits } from './model.ts';
import { type LimitsProblem, type Location, problem } from './problems.ts';
import { sanitizeUsernameForSlice } from './sanitizeUsername.ts';

/**
 * The usernames the lab's files name (group members, inline and in .members files, and override
 * keys) are input a person typed: DS01 turns each into a cgroup slice and hands it to getent. A
 * name is not refused for its characters alone (domain accounts such as `alice@uni.edu` are real),
 * but for what no account database can hold, or for meaning another name's slice.
 */

export interface NamedAccount {
  user: string;
  at: Location;
  /** Where it is named: `member of students`, `override`. */
  as: string;
}

/** Every username the files name, each place once, in file order. */
export function namedAccounts(
  groups: ResourceLimits['groups'],
  overrides: ResourceLimits['overrides'],
): NamedAccount[] {
  const named: NamedAccount[] = [];
  for (const group of groups) {
    for (const [user, at] of group.memberSources) named.push({ user, at, as: `member of ${group.name}` });
  }
  for (const override of overrides.values())
    named.push({ user: override.user, at: override.at, as: 'override' });
  return named;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is looked for
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * What makes a name impossible as an account: a control character (it would rewrite a terminal),
 * `/` (a path, `../../etc/x`), `:` (passwd's field separator) or a leading `-` (an option to any
 * program it reaches). Undefined: possible.
 */
export function impossibleName(user: string): string | undefined {
  if (CONTROL.test(user)) return 'holds a control character';
  if (user.includes('/')) return "holds '/' (a path, not a name)";
  if (user.includes(':')) return "holds ':', the field separator of the user database";
  if (user.startsWith('-')) return "starts with '-', which programs read as an option";
  return undefined;
}

/** Errors for names no account can have, and for two names that sanitize to the same slice name. */
export function accountNameProblems(named: readonly NamedAccount[]): LimitsProblem[] {
  const problems: LimitsProblem[] = [];
  const firstBySlice = new Map<string, NamedAccount>();
  for (const account of named) {
    const impossible = impossibleName(account.user);
    if (impossible) {
      problems.push(
        problem('error', account.at, account.user, `${impossible}: no account can be named so`, {
          expected: 'a username as the host knows it (getent passwd NAME)',
        }),
      );
      continue;
    }
    const slice = sanitizeUsernameForSlice(account.user);
    const first = firstBySlice.get(slice);
    if (!first) {
      firstBySlice.set(slice, account);
      continue;
    }
    if (first.user === account.user) continue;
    problems.push(
      problem(
        'error',
        account.at,
        account.user,
        `names the same cgroup slice user '${slice}' as ${first.user} (${first.as}, line ${first.at.line}): their containers, limits and GPUs could not be told apart`,
        {
          expected: 'names whose sanitized forms differ (ds01 config check --user NAME shows the slice)',
          related: [first.at],
        },
      ),
    );
  }
  return problems;
}

/** Warnings for names the host's user database does not know (`known`: the names it knows). */
export function unknownAccountProblems(
  named: readonly NamedAccount[],
  known: ReadonlySet<string>,
): LimitsProblem[] {
  const problems: LimitsProblem[] = [];
  const warned = new Set<string>();
  for (const account of named) {
    if (known.has(account.user) || impossibleName(account.user) || warned.has(account.user)) continue;
    warned.add(account.user);
    const foreign = [...account.user].filter((c) => c.charCodeAt(0) > 0x7e);
    const lookalike =
      foreign.length > 0
        ? ` (it holds ${foreign.map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`).join(', ')}: a look-alike of a Latin letter?)`
        : '';
    problems.push(
      problem(
        'warning',
        account.at,
        account.user,
        `is not an account the host's user database knows (getent passwd)${lookalike}; the setting applies to nobody until it exists`,
        { expected: 'the exact username, as `getent passwd NAME` prints it' },
      ),
    );
  }
  return problems;
}
