import { lstat } from 'node:fs/promises';
import { type HostUser, type UserDirectory, userDirectoryOf } from '@ds01/domain';
import { AccountLookupError, lookupAccount } from '../accounts/lookupAccount.ts';
import { ProgramError, ProgramTimeoutError, runProgram } from '../process/index.ts';

/** getent answers from files at once, from LDAP/SSSD within seconds; past this it is stuck. */
const GETENT_TIMEOUT_MS = 10_000;

/** `name:x:uid:gid:gecos:home:shell` lines → accounts (malformed lines are skipped, not guessed). */
export function parsePasswd(text: string): HostUser[] {
  const users: HostUser[] = [];
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid && /^\d+$/.test(uid)) users.push({ name, uid: Number(uid) });
  }
  return users;
}

/**
 * `getent passwd -- KEY…` (no key: the enumeration): the accounts it printed. Exit 2 means some key is
 * unknown (the known ones are printed); whatever the exit, or when it is missing or stuck past its
 * deadline, what it printed is what it knows, so attribution goes on with the accounts it has.
 */
async function getent(keys: readonly string[]): Promise<HostUser[]> {
  try {
    // `--`: a name from a container (a path /home/--service=nis/x) is never read as an option.
    const args = keys.length > 0 ? ['passwd', '--', ...keys] : ['passwd'];
    const result = await runProgram('getent', args, { timeoutMs: GETENT_TIMEOUT_MS });
    return parsePasswd(result.stdout);
  } catch (error) {
    if (error instanceof ProgramTimeoutError) return parsePasswd(error.stdout);
    if (error instanceof ProgramError) return [];
    throw error;
  }
}

/**
 * The host's accounts for attribution: one `getent passwd` enumeration (local files, and LDAP/SSSD
 * where enumeration is on), completed by asking getent for each name or uid a container mentions that
 * the enumeration lacks (domain accounts are often not enumerable). Answers, including "no such
 * account", are cached for `ttlMs`; accounts DS01 knows from config can be added with `extraNames`.
 */
export class HostUserDirectory {
  readonly #ttlMs: number;
  readonly #extraNames: readonly string[];
  #users = new Map<string, HostUser>();
  #asked = new Map<string, number>();
  #enumeratedAt = Number.NEGATIVE_INFINITY;
  #directory: UserDirectory = userDirectoryOf([]);
  /** Names and uids (as strings) of every account in the directory. */
  #known = new Set<string>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: { ttlMs?: number; extraNames?: readonly string[] } = {}) {
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#extraNames = options.extraNames ?? [];
  }

  /** Makes sure these names and uids are resolved (or known to be unknown), then returns the directory. */
  resolve(candidates: {
    names: readonly string[];
    uids: readonly number[];
    /** Sanitised names from user slices: only an enumeration can map them back. */
    sanitisedNames?: readonly string[];
  }): Promise<UserDirectory> {
    // One at a time: a reconciliation describes hundreds of containers at once, and they must share one
    // enumeration rather than each start its own getent.
    const result = this.#queue.then(() => this.#resolve(candidates));
    this.#queue = result.catch(() => {});
    return result;
  }

  async #resolve(candidates: {
    names: readonly string[];
    uids: readonly number[];
    sanitisedNames?: readonly string[];
  }): Promise<UserDirectory> {
    const now = Date.now();
    // A slice of an account newer than the last enumeration: enumerate again (at most every 5 s).
    const unknownSlice = (candidates.sanitisedNames ?? []).some(
      (s) => this.#directory.bySanitisedName(s).length === 0,
    );
    if (now - this.#enumeratedAt > this.#ttlMs || (unknownSlice && now - this.#enumeratedAt > 5_000)) {
      this.#users = new Map();
      this.#asked = new Map();
      if (this.#extraNames.length > 0) {
        for (const user of await getent(this.#extraNames)) this.#users.set(user.name, user);
      }
      // No enumeration (getent missing, refusing or stuck) gives none: per-key lookups below still work.
      for (const user of await getent([])) this.#users.set(user.name, user);
      this.#enumeratedAt = now;
      this.#rebuild();
    }
    const missing = [...candidates.names, ...candidates.uids.map(String)].filter(
      (key) =>
        !this.#known.has(key) && !(now - (this.#asked.get(key) ?? Number.NEGATIVE_INFINITY) < this.#ttlMs),
    );
    if (missing.length > 0) {
      for (const user of await getent(missing)) this.#users.set(user.name, user);
      for (const key of missing) this.#asked.set(key, now);
      this.#rebuild();
    }
    return this.#directory;
  }

  #rebuild(): void {
    this.#directory = userDirectoryOf(this.#users.values());
    this.#known = new Set([...this.#users.values()].flatMap((u) => [u.name, String(u.uid)]));
  }
}

/**
 * Who owns each path under /home a rule reads (bind-mount sources, compose and dev container
 * folders), so that naming someone else's folder does not make a container theirs. Only the path
 * itself counts, as itself: a folder that does not exist proves nothing (its parent, the home, is
 * always its user's), and a link is owned by whoever made it, not by what it points at.
 */
export async function homePathOwners(sources: readonly string[]): Promise<Map<string, number>> {
  const owners = new Map<string, number>();
  for (const source of sources) {
    if (!source.startsWith('/home/')) continue;
    try {
      owners.set(source, (await lstat(source)).uid);
    } catch {
      // gone or never there: nobody is named by it
    }
  }
  return owners;
}

/**
 * Whether the host has this account (`getent passwd -- NAME`, with its deadline): null when that cannot
 * be told (getent missing, failing, stuck past its deadline — a directory server down is not a departure).
 */
export async function accountExists(name: string, timeoutMs = GETENT_TIMEOUT_MS): Promise<boolean | null> {
  try {
    return (await lookupAccount(name, { timeoutMs })) !== null;
  } catch (error) {
    if (error instanceof AccountLookupError) return null;
    throw error;
  }
}
