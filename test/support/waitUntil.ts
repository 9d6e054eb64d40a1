import { readFileSync } from 'node:fs';

/**
 * Waits until `condition` holds, polling; past `timeoutMs` it fails saying what it was waiting for.
 * Tests wait on conditions, never on fixed sleeps.
 */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  waitingFor: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${waitingFor}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Whether a process with this pid still runs. A zombie (dead, not yet reaped: an orphan waits for
 * whichever reaper the machine has) counts as gone.
 */
export function processExists(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ...": the state follows the last ')' (comm may hold spaces and parentheses).
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
