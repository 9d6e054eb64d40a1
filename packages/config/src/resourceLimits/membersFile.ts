import { type LimitsProblem, type Location, problem } from './problems.ts';

/** One username of a `groups/<group>.members` file, and where it is written. */
export interface Member {
  user: string;
  at: Location;
}

/**
 * Python's str.strip() with no argument: every character for which str.isspace() is true. Not
 * JavaScript's trim(), which also strips a byte-order mark (Python keeps it, so a member written
 * after a BOM never matches in ds01-infra).
 */
const pythonSpace =
  '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const pythonStripPattern = new RegExp(`^[${pythonSpace}]+|[${pythonSpace}]+$`, 'g');

export function pythonStrip(text: string): string {
  return text.replace(pythonStripPattern, '');
}

/**
 * Reads a `.members` file as ds01-infra does (`line.split("#")[0].strip()`, non-empty lines):
 * one username a line, `#` starts a comment, blank lines are fine. Lines ds01-infra reads as a
 * name that can never match a user (inner spaces, a byte-order mark) are warnings.
 */
export function parseMembersFile(
  text: string,
  file: string,
): { members: Member[]; problems: LimitsProblem[] } {
  const members: Member[] = [];
  const problems: LimitsProblem[] = [];
  // Python's text mode reads \r\n and \r as line ends too (universal newlines).
  text.split(/\r\n|\r|\n/).forEach((line, index) => {
    const raw = line.split('#')[0] ?? '';
    const user = pythonStrip(raw);
    if (!user) return;
    const at = { file, line: index + 1, column: raw.indexOf(user.charAt(0)) + 1 };
    members.push({ user, at });
    if (/\s/.test(user)) {
      problems.push(
        problem(
          'warning',
          at,
          user,
          'holds more than one word; ds01-infra reads the whole line as one username, which matches nobody',
          {
            expected: 'one username a line',
            found: user,
          },
        ),
      );
    }
    if (user.startsWith('\ufeff')) {
      problems.push(
        problem(
          'warning',
          at,
          user.slice(1),
          'starts with a byte-order mark; ds01-infra keeps it in the name, which then matches nobody',
          {
            expected: 'a file saved as UTF-8 without BOM',
          },
        ),
      );
    }
  });
  return { members, problems };
}

/** One line of `group-overrides.txt` (`username:group  # comment`), read by ds01-infra's group sync. */
export interface GroupAssignment {
  user: string;
  group: string;
  at: Location;
}

/**
 * Reads `group-overrides.txt` as sync-group-membership.sh does: the group is the second `:` field
 * with its comment and spaces removed. Lines without a group are reported.
 */
export function parseGroupOverridesFile(
  text: string,
  file: string,
): { assignments: GroupAssignment[]; problems: LimitsProblem[] } {
  const assignments: GroupAssignment[] = [];
  const problems: LimitsProblem[] = [];
  text.split(/\r\n|\r|\n/).forEach((line, index) => {
    if (/^\s*(#|$)/.test(line)) return;
    const at = { file, line: index + 1, column: 1 };
    const [user = '', rest] = line.split(':');
    const group = (rest ?? '').replace(/#.*/, '').replace(/\s/g, '');
    if (!user.trim() || !group) {
      problems.push(
        problem('error', at, user.trim(), 'is not a group assignment', {
          expected: 'username:group  # comment',
          found: line.trim(),
        }),
      );
      return;
    }
    assignments.push({ user: user.trim(), group, at });
  });
  return { assignments, problems };
}
