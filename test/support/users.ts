import { execFile } from 'node:child_process';
import { chown, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Real unix users for tests that attribute things to people (a container started from a user's folder,
 * a process running as their uid). Names always start with `ds01t-` so they can never be mistaken for
 * (or collide with) a real account, and creating one is idempotent: suites running in parallel may ask
 * for the same user.
 */
export const TEST_USER_PREFIX = 'ds01t-';

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  /** `/home/<name>`, owned by the user. */
  home: string;
}

export class TestUserError extends Error {
  override readonly name = 'TestUserError';
}

/** Creates (or finds) the unix user `ds01t-<suffix>` with a home folder under /home. Needs root. */
export async function ensureTestUser(suffix: string): Promise<TestUser> {
  const name = suffix.startsWith(TEST_USER_PREFIX) ? suffix : `${TEST_USER_PREFIX}${suffix}`;
  if (!/^[a-z_][a-z0-9._-]{0,31}$/.test(name)) {
    throw new TestUserError(
      `test user name "${name}" is not a valid unix name (lowercase letters, digits, ., - and _, at most 32)`,
    );
  }
  let user = await lookupUser(name);
  if (!user) {
    if (process.getuid?.() !== 0) {
      throw new TestUserError(
        `creating test user ${name} needs root: run the suite as root (sudo scripts/test.sh)`,
      );
    }
    try {
      await run('useradd', ['-m', '-d', `/home/${name}`, '-s', '/bin/sh', name]);
    } catch (error) {
      // A parallel suite created it between our lookup and useradd (exit 9: name already in use).
      if ((error as { code?: number }).code !== 9) throw error;
    }
    user = await lookupUser(name);
    if (!user) throw new TestUserError(`useradd ${name} succeeded but getent cannot find the user`);
  }
  await mkdir(user.home, { recursive: true });
  await chown(user.home, user.uid, user.gid);
  return user;
}

/** A folder under the user's home (for example a project a dev container or compose file lives in), owned by them. */
export async function ensureUserFolder(user: TestUser, relative: string): Promise<string> {
  const folder = path.join(user.home, relative);
  if (!folder.startsWith(`${user.home}/`)) {
    throw new TestUserError(`folder ${relative} would leave ${user.home}`);
  }
  await mkdir(folder, { recursive: true });
  // Own every level between home and the folder, as a user's `mkdir -p` would have.
  let current = folder;
  while (current.startsWith(`${user.home}/`)) {
    await chown(current, user.uid, user.gid);
    current = path.dirname(current);
  }
  return folder;
}

async function lookupUser(name: string): Promise<TestUser | undefined> {
  try {
    const { stdout } = await run('getent', ['passwd', name]);
    const [, , uid, gid, , home] = stdout.trim().split(':');
    return { name, uid: Number(uid), gid: Number(gid), home: home ?? `/home/${name}` };
  } catch {
    return undefined; // getent exits 2 when the name is unknown
  }
}
