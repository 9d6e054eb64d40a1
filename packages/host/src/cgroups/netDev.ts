import { readFileSync } from 'node:fs';

/**
 * Bytes received and sent on every interface but loopback, from /proc/<pid>/net/dev (the network
 * namespace of that process: a container's). Null when the process is gone.
 */
export async function readNetDev(
  pid: number,
  procRoot = '/proc',
): Promise<{ rx: number; tx: number } | null> {
  let text: string;
  try {
    // procfs: made on read, never waits for a disk (see CgroupFs).
    text = readFileSync(`${procRoot}/${pid}/net/dev`, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH' || code === 'EINVAL') return null;
    throw error;
  }
  return parseNetDev(text);
}

/** "  eth0: 1234 5 0 0 0 0 0 0 5678 9 ..." → receive bytes (field 1) and transmit bytes (field 9). */
export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === 'lo') continue;
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    rx += fields[0] ?? 0;
    tx += fields[8] ?? 0;
  }
  return { rx, tx };
}
