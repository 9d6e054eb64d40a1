import { runProgram } from '../process/runProgram.ts';

/** Sessions per user as `who` lists them (one line per terminal or ssh session). */
export function countSessions(whoOutput: string): { user: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const line of whoOutput.split('\n')) {
    const user = line.trim().split(/\s+/)[0];
    if (user) counts.set(user, (counts.get(user) ?? 0) + 1);
  }
  return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([user, count]) => ({ user, count }));
}

/**
 * Who is logged in now (ds01-infra's ds01_ssh_sessions_*), from `who` with a deadline; null when
 * `who` is missing, fails or does not answer in time (the metric is then left out, not zero).
 */
export async function loggedInSessions(timeoutMs = 5000): Promise<{ user: string; count: number }[] | null> {
  try {
    const result = await runProgram('who', [], { timeoutMs });
    return result.exitCode === 0 ? countSessions(result.stdout) : null;
  } catch {
    return null;
  }
}
