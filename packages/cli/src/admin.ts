import { userInfo } from 'node:os';
import { CliError } from './errors.ts';

/** Whether the person running the CLI is an admin: root, as the admin socket and the root-only store have it. */
export function isAdmin(): boolean {
  return process.geteuid?.() === 0;
}

/**
 * Refuses an admin's command to anyone else, before it reads or writes anything: a decision about
 * other people's containers or accounts is an admin's, whatever the store's permissions happen to
 * let through (a store URL with credentials, a data dir left writable). `command` as the user
 * typed it (`lifecycle extend`).
 */
export function requireAdmin(command: string, hint?: string): void {
  if (isAdmin()) return;
  const uid = process.geteuid?.();
  throw new CliError(
    `\`ds01 ${command}\` is for admins (root); you are ${userInfo().username}${uid === undefined ? '' : ` (uid ${uid})`}`,
    { hint: hint ?? `ask an admin of this machine, or run it as root: sudo ds01 ${command} ...` },
  );
}
