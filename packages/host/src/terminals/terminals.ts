import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Ds01Error } from '@ds01/errors';
import { runProgram } from '../process/index.ts';

/** Where login sessions are recorded (utmp); `who` reads it. */
export const DEFAULT_UTMP = '/var/run/utmp';

export interface TerminalSession {
  user: string;
  /** `/dev/pts/3`, `/dev/tty1`. */
  device: string;
}

/**
 * The terminals a user is logged in on, as `who` reads them from utmp (with a deadline: a stuck
 * NSS lookup never holds the notifier). `who` prints `NAME LINE TIME [COMMENT]` per session.
 */
export async function terminalsOf(
  user: string,
  options: { utmp?: string; timeoutMs: number },
): Promise<TerminalSession[]> {
  const result = await runProgram('who', ['--', options.utmp ?? DEFAULT_UTMP], {
    timeoutMs: options.timeoutMs,
  });
  if (result.exitCode !== 0) throw new Error(`who exited ${result.exitCode}: ${result.stderr.trim()}`);
  const sessions: TerminalSession[] = [];
  for (const line of result.stdout.split('\n')) {
    const [name, tty] = line.trim().split(/\s+/);
    if (name !== user || !tty || !/^[a-z]+[a-z0-9/]*$/i.test(tty) || tty.includes('..')) continue;
    const device = `/dev/${tty}`;
    if (!sessions.some((s) => s.device === device)) sessions.push({ user, device });
  }
  return sessions;
}

/** The terminal does not take the message, with why (`mesg n`, not theirs, gone ...). */
export class TerminalRefusedError extends Ds01Error {
  override name = 'TerminalRefusedError';
}

/**
 * Writes to a user's terminal like `write(1)`: only a character device that the user owns and that
 * accepts messages (group-writable: `mesg y`), opened without becoming its controlling terminal and
 * without blocking (a terminal that does not drain its output is given up at the deadline).
 */
export async function writeToTerminal(
  device: string,
  ownerUid: number,
  text: string,
  timeoutMs: number,
): Promise<void> {
  const info = await stat(device).catch(() => undefined);
  if (!info?.isCharacterDevice()) throw new TerminalRefusedError(`${device} is not a terminal`);
  if (info.uid !== ownerUid)
    throw new TerminalRefusedError(`${device} is not the user's terminal (owner uid ${info.uid})`);
  if ((info.mode & 0o020) === 0) throw new TerminalRefusedError(`${device} refuses messages (mesg n)`);
  const handle = await open(device, constants.O_WRONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
  let timer: NodeJS.Timeout | undefined;
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TerminalRefusedError(`${device} did not take the message within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    // A terminal wants CR LF.
    await Promise.race([handle.write(text.replace(/\r?\n/g, '\r\n')), deadline]);
  } finally {
    clearTimeout(timer);
    await handle.close();
  }
}
