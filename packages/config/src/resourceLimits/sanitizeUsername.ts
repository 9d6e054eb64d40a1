import { createHash } from 'node:crypto';

/** Linux user and group names are at most 32 characters (useradd/groupadd refuse longer ones). */
const MAX_LENGTH = 32;

/**
 * A username as it appears in systemd slice names (`ds01-<group>-<user>.slice`) and cgroup paths,
 * exactly as ds01-infra's scripts/lib/username_utils.py makes it, so that DS01 and ds01-infra name
 * the same slices: the `@domain` is dropped, dots and every character outside [a-zA-Z0-9_:] become
 * `_` (never `-`, which systemd reads as a level of the slice hierarchy), runs of `_` collapse, and
 * `_` is trimmed at both ends. A result longer than 32 characters keeps its first 27 (without
 * trailing `_`), then `_` and the first 4 hex digits of the md5 of the ORIGINAL name, so two long
 * names that share a prefix still differ.
 */
export function sanitizeUsernameForSlice(username: string): string {
  if (!username) return username;
  const local = username.split('@')[0] ?? '';
  const sanitized = local
    .replaceAll('.', '_')
    .replace(/[^a-zA-Z0-9_:]/gu, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (sanitized.length <= MAX_LENGTH) return sanitized;
  const hash = createHash('md5').update(username, 'utf8').digest('hex').slice(0, 4);
  return `${sanitized.slice(0, 27).replace(/_+$/, '')}_${hash}`;
}

/** The systemd slice a user's containers run under: `ds01-<group>-<sanitized user>.slice`. */
export function userSliceName(group: string, username: string): string {
  return `ds01-${group}-${sanitizeUsernameForSlice(username)}.slice`;
}
