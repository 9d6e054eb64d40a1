import { parsePasswd } from '../docker/hostUsers.ts';
import { ProgramError, runProgram } from '../process/index.ts';

/** Names asked of getent at once: a command line stays far below the kernel's limit. */
const BATCH = 200;

/**
 * Which of these names the host's user database knows (`getent passwd -- NAME…`: local files, LDAP,
 * SSSD; the names never read as options). Undefined when getent cannot answer (missing, stuck past
 * its deadline): then nothing can be said about any name, and a caller must not call them unknown.
 */
export async function knownAccountNames(
  names: readonly string[],
  options: { timeoutMs?: number } = {},
): Promise<Set<string> | undefined> {
  const known = new Set<string>();
  const unique = [...new Set(names)].filter((name) => name.length > 0);
  for (let start = 0; start < unique.length; start += BATCH) {
    const batch = unique.slice(start, start + BATCH);
    try {
      const result = await runProgram('getent', ['passwd', '--', ...batch], {
        timeoutMs: options.timeoutMs ?? 10_000,
      });
      // Exit 2: some name is unknown (the known ones are printed); anything else: no answer.
      if (result.exitCode !== 0 && result.exitCode !== 2) return undefined;
      for (const user of parsePasswd(result.stdout)) known.add(user.name);
    } catch (error) {
      if (error instanceof ProgramError) return undefined;
      throw error;
    }
  }
  return known;
}
