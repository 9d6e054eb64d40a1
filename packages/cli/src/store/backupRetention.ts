import { closeSync, openSync, readdirSync, readSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

const DAY_MS = 24 * 60 * 60 * 1000;
/** PRAGMA application_id of a DS01 event store ("DS01"), at byte 68 of an SQLite file's header. */
const DS01_STORE_ID = 0x44533031;

/**
 * Removes backups older than `keepDays` from the folder of `latest` (the backup just written), and
 * returns their paths. A backup is a file named like `latest` (the same name up to its first digit,
 * the same extension: events-2026-12-01.db for events-2026-12-03.db) whose header says it is a DS01
 * event store: nothing else in the folder is touched, nor the newest backup whatever its age.
 */
export function pruneBackups(latest: string, keepDays: number, now: Date): string[] {
  const folder = dirname(latest);
  const name = basename(latest);
  const stem = name.slice(0, name.search(/\d/) < 0 ? name.length - extname(name).length : name.search(/\d/));
  const extension = extname(name);
  const cutoff = now.getTime() - keepDays * DAY_MS;
  const removed: string[] = [];
  for (const entry of readdirSync(folder)) {
    if (entry === name || !entry.startsWith(stem) || extname(entry) !== extension) continue;
    const path = join(folder, entry);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat?.isFile() || stat.mtimeMs >= cutoff || !isDs01Store(path)) continue;
    rmSync(path);
    removed.push(path);
  }
  return removed.sort();
}

/** Whether the file's SQLite header says it is a DS01 event store (a backup or the log itself). */
export function isDs01Store(path: string): boolean {
  const header = Buffer.alloc(72);
  const fd = openSync(path, 'r');
  try {
    return (
      readSync(fd, header, 0, 72, 0) === 72 &&
      header.toString('latin1', 0, 15) === 'SQLite format 3' &&
      header.readUInt32BE(68) === DS01_STORE_ID
    );
  } finally {
    closeSync(fd);
  }
}
