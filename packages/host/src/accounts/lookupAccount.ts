import { Ds01Error } from '@ds01/errors';
import { ProgramTimeoutError, runProgram } from '../process/index.ts';

/** A unix account as the host's user database (files, LDAP, SSSD) answers for one name. */
export interface HostAccount {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** getent answers from files at once and from LDAP/SSSD within seconds; past this it is stuck. */
const GETENT_TIMEOUT_MS = 10_000;

export class AccountLookupError extends Ds01Error {
  override readonly name = 'AccountLookupError';
}

/**
 * `getent passwd -- NAME`: the account, or null when the user database does not know the name
 * (getent exits 2). The name comes after `--`, so a name like `-rf` or `--service=nis` is looked up
 * as a name, never read as an option. A getent that is missing, fails otherwise or is stuck past its
 * deadline is an AccountLookupError: "no such user" and "could not ask" are not the same answer.
 */
export async function lookupAccount(
  name: string,
  options: { timeoutMs?: number } = {},
): Promise<HostAccount | null> {
  let result: Awaited<ReturnType<typeof runProgram>>;
  try {
    result = await runProgram('getent', ['passwd', '--', name], {
      timeoutMs: options.timeoutMs ?? GETENT_TIMEOUT_MS,
      display: `getent passwd -- ${JSON.stringify(name)}`,
    });
  } catch (error) {
    const why = error instanceof ProgramTimeoutError ? 'did not answer in time' : (error as Error).message;
    throw new AccountLookupError(`could not look up user ${JSON.stringify(name)}: getent ${why}`, {
      cause: error,
    });
  }
  if (result.exitCode === 2) return null;
  if (result.exitCode !== 0) {
    throw new AccountLookupError(
      `could not look up user ${JSON.stringify(name)}: getent exited ${result.exitCode}: ${result.stderr.trim()}`,
    );
  }
  for (const line of result.stdout.split('\n')) {
    const [account, , uid, gid, , home] = line.split(':');
    if (account === name && uid && gid && /^\d+$/.test(uid) && /^\d+$/.test(gid)) {
      return { name, uid: Number(uid), gid: Number(gid), home: home ?? '' };
    }
  }
  return null;
}
