import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

/**
 * The name of the account with this uid, through NSS (`getent passwd`, so that SSSD/LDAP domain
 * accounts like h.baker@hertie-school.lan are found), else /etc/passwd; null when there is none.
 */
export async function userNameOf(uid: number): Promise<string | null> {
  try {
    const { stdout } = await promisify(execFile)('getent', ['passwd', String(uid)], { timeout: 5000 });
    const name = stdout.split(':')[0]?.trim();
    if (name) return name;
  } catch {
    // getent missing, or no such uid: /etc/passwd may still know it.
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
