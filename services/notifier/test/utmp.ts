import { writeFileSync } from 'node:fs';

const RECORD = 384;
const USER_PROCESS = 7;

/**
 * A utmp file (glibc x86_64 `struct utmp`, what `who` reads) with one login session per entry: what
 * the system's /var/run/utmp holds for users logged in on terminals.
 */
export function writeUtmp(path: string, sessions: { user: string; device: string; pid: number }[]): void {
  const buffer = Buffer.alloc(RECORD * sessions.length);
  sessions.forEach((s, i) => {
    const at = i * RECORD;
    const line = s.device.replace(/^\/dev\//, '');
    buffer.writeInt32LE(USER_PROCESS, at);
    buffer.writeInt32LE(s.pid, at + 4);
    buffer.write(line, at + 8, 32, 'utf8');
    buffer.write(line.slice(-4), at + 40, 4, 'utf8');
    buffer.write(s.user, at + 44, 32, 'utf8');
    buffer.write('test', at + 76, 256, 'utf8');
    buffer.writeInt32LE(Math.floor(Date.now() / 1000), at + 340);
  });
  writeFileSync(path, buffer);
}
