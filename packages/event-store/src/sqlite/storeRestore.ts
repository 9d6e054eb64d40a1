import { existsSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { copyStoreFile, type StoreFileSummary, syncPath } from './storeCopy.ts';

export interface StoreReplacement {
  restored: StoreFileSummary;
  /** The store that was replaced, kept under this name (undefined: there was none). */
  keptAs: string | undefined;
}

/**
 * Replaces the store file `target` by a checked copy of `source`. The copy is staged beside the
 * target first (a whole file, flushed), so a failure before the last step leaves the old store as it
 * was. The old store is kept as `<target>.before-restore-<time>`, with its write-ahead log folded in
 * when it can still be opened, else moved along with it (SQLite pairs `X-wal` with `X`). The caller
 * makes sure no process has the store open (ds01d's lock) and verifies `source` first.
 */
export function replaceStoreFile(source: string, target: string, now: Date): StoreReplacement {
  const restored = copyStoreFile(source, `${target}.restoring`);
  let keptAs: string | undefined;
  if (existsSync(target)) {
    keptAs = `${target}.before-restore-${now.toISOString().replace(/[:.]/g, '-')}`;
    foldWriteAheadLog(target);
    // The log files first: a -wal left beside the restored file would be replayed into it.
    for (const suffix of ['-wal', '-shm', '']) {
      if (existsSync(`${target}${suffix}`)) renameSync(`${target}${suffix}`, `${keptAs}${suffix}`);
    }
  }
  renameSync(restored.path, target);
  syncPath(dirname(target));
  return { restored: { ...restored, path: target }, keptAs };
}

/** Checkpoints the WAL into the file and removes it, when SQLite can still open the file. */
function foldWriteAheadLog(path: string): void {
  if (!existsSync(`${path}-wal`)) return;
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path);
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  } catch {
    // A damaged store (often why it is replaced): its -wal moves aside with it, untouched.
  } finally {
    db?.close();
  }
}
