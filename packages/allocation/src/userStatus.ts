import type { UserStatus } from '@ds01/domain';
import { userStream } from '@ds01/domain';
import type { EventStore } from '@ds01/event-store';
import { ProgramError, runProgram } from '@ds01/host';
import type { UserStatusSource } from './ports.ts';

/** Looks an account up on the host: true when `getent passwd NAME` finds it (local, LDAP, SSSD). */
export type AccountLookup = (user: string) => Promise<boolean>;

/**
 * A user's status from the log and the host: departed when their stream's last word is
 * UserDeparted; active when registered, or when the host has the account (ds01-infra gave GPUs to
 * any account, registered or not); unknown otherwise.
 */
export function hostUserStatus(store: EventStore, lookup: AccountLookup = getentPasswd): UserStatusSource {
  return {
    async statusOf(user) {
      let last: UserStatus | undefined;
      for await (const event of store.readStream(userStream(user), { direction: 'backwards' })) {
        if (event.type === 'UserDeparted') last = 'departed';
        else if (event.type === 'UserRegistered') last = 'active';
        if (last) break;
      }
      if (last) return last;
      return (await lookup(user)) ? 'active' : 'unknown';
    },
  };
}

/**
 * `getent passwd -- NAME` (the name never read as an option): exit 0 found, 2 not found; anything else,
 * or no answer within 5 s (a stuck LDAP lookup), is a failure worth reporting.
 */
export const getentPasswd: AccountLookup = async (user) => {
  const result = await runProgram('getent', ['passwd', '--', user], { timeoutMs: 5000 });
  if (result.exitCode === 0) return true;
  if (result.exitCode === 2) return false;
  throw new ProgramError(
    `getent passwd -- ${user}`,
    `failed (exit ${result.exitCode ?? result.signal}): ${result.stderr.trim()}`,
  );
};
