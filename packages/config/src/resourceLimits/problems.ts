import { type ConfigProblem, formatProblem } from '../yamlFile.ts';

/** A place in a configuration file (1-based line and column; 0 when the file as a whole is meant). */
export interface Location {
  file: string;
  line: number;
  column: number;
}

/**
 * One thing wrong in the lab's resource limits. An `error` means the files cannot mean what they
 * say (unknown key, wrong type, negative number, unknown group): they are refused. A `warning` means
 * ds01-infra gives the files a defined meaning, which DS01 follows, that is probably not what the
 * admin meant (a user in two groups, a legacy key shadowed by another): the files are applied,
 * and `ds01 config check` fails until it is fixed.
 */
export interface LimitsProblem extends ConfigProblem {
  severity: 'error' | 'warning';
  /** What the key accepts, in words. */
  expected?: string;
  /** The value found, as the file wrote it. */
  found?: string;
  /** Other places the problem involves (e.g. the second group file of a user in two groups). */
  related?: Location[];
}

/** Builds a problem at a location; `message` says what is wrong, the rest is for programs. */
export function problem(
  severity: LimitsProblem['severity'],
  at: Location,
  key: string,
  message: string,
  extra: Pick<LimitsProblem, 'expected' | 'found' | 'suggestion' | 'related'> = {},
): LimitsProblem {
  const result: LimitsProblem = { severity, ...at, key, message };
  for (const [name, value] of Object.entries(extra)) {
    if (value !== undefined) Object.assign(result, { [name]: value });
  }
  return result;
}

/** One line for a person: `file:line:col: key: message (did you mean 'x'?)`, warnings marked. */
export function describeProblem(p: LimitsProblem): string {
  const text = formatProblem(p);
  const related = (p.related ?? []).map((r) => `\n    see also ${r.file}:${r.line}:${r.column}`).join('');
  return `${p.severity === 'warning' ? 'warning: ' : 'error: '}${text}${related}`;
}
