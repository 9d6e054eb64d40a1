import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { backup, DatabaseSync } from 'node:sqlite';
import type { Site } from './site.ts';

/**
 * A consistent copy of the site's log and read models, taken with SQLite's online backup while the
 * CLI keeps writing (a file copy could tear a transaction). The read models first: the log copy is
 * then at or past every checkpoint in them.
 */
export async function snapshotSite(site: Site, into: string): Promise<{ dataDir: string }> {
  const dataDir = join(into, 'data');
  mkdirSync(dataDir, { recursive: true });
  for (const file of ['projections.db', 'events.db']) {
    // ds01d killed before it first opened its read models leaves none: the catch-up starts them.
    if (!existsSync(join(site.dataDir, file))) continue;
    const source = new DatabaseSync(join(site.dataDir, file), { readOnly: true, timeout: 10_000 });
    try {
      // All pages in one step: stepping would restart each time a CLI process commits meanwhile.
      await backup(source, join(dataDir, file), { rate: 1_000_000 });
    } finally {
      source.close();
    }
  }
  return { dataDir };
}
