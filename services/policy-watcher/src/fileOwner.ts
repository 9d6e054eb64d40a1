import { readFile } from 'node:fs/promises';
import { runProgram } from '@ds01/host';

/**
 * The name of the account with this uid, through NSS (`getent passwd`, so that SSSD/LDAP domain
 * accounts like h.baker@hertie-school.lan are found), else /etc/passwd; null when there is none.
 */
export async function userNameOf(uid: number): Promise<string | null> {
  try {
    const { stdout, exitCode } = await runProgram('getent', ['passwd', '--', String(uid)], {
      timeoutMs: 5000,
    });
    const name = exitCode === 0 ? stdout.split(':')[0]?.trim() : undefined;
    if (name) return name;
  } catch {
    // getent missing or stuck past its deadline: /etc/passwd may still know it.
  }
  try {
    const passwd = await readFile('/etc/passwd', 'utf8');
    for (const line of passwd.split('\n')) {
      const [name, , id] = line.split(':');
      if (name && Number(id) === uid) return name;
    }
  } catch {
    // No /etc/passwd (a container): the uid alone says who it was.
  }
  return null;
}
