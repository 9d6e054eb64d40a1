import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BareMetalGrant } from '@ds01/domain';
import { z } from 'zod';

/** One file of ds01-infra's bare-metal-access (`<state_dir>/<user>.json`). */
const GrantFile = z.object({
  user: z.string().min(1),
  type: z.enum(['permanent', 'temporary']),
  expires_at: z.string().nullable().optional(),
});

/**
 * The grants of `bare-metal-access grant` in `stateDir` (/var/lib/ds01/bare-metal-grants). A folder
 * that does not exist is no grants; a file that cannot be read as a grant is skipped and named in
 * `problems` (file and what is wrong), never guessed at.
 */
export async function readBareMetalGrants(
  stateDir: string,
): Promise<{ grants: BareMetalGrant[]; problems: string[] }> {
  let names: string[];
  try {
    names = (await readdir(stateDir)).filter((name) => name.endsWith('.json')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { grants: [], problems: [] };
    throw error;
  }
  const grants: BareMetalGrant[] = [];
  const problems: string[] = [];
  for (const name of names) {
    const file = join(stateDir, name);
    try {
      const parsed = GrantFile.safeParse(JSON.parse(await readFile(file, 'utf8')));
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        problems.push(`${file}: ${issue.path.join('.') || 'the file'}: ${issue.message}`);
        continue;
      }
      const expiresAt = parsed.data.expires_at ?? null;
      if (parsed.data.type === 'temporary' && (expiresAt === null || Number.isNaN(Date.parse(expiresAt)))) {
        problems.push(
          `${file}: expires_at: a temporary grant needs a date-time, found ${JSON.stringify(expiresAt)}`,
        );
        continue;
      }
      grants.push({ user: parsed.data.user, type: parsed.data.type, expiresAt });
    } catch (error) {
      problems.push(
        `${file}: ${error instanceof SyntaxError ? `not JSON (${error.message})` : String(error)}`,
      );
    }
  }
  return { grants, problems };
}
