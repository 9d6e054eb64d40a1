import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';

/**
 * The file of the embedded SQLite store, for the commands that work on the file itself (backup,
 * restore, verify). A server store has its own, better tools: say which, and refuse.
 */
export function embeddedStorePath(context: CliContext, command: string): string {
  const { url, path } = context.config().eventStore;
  if (!url) return path;
  const postgres = /^postgres(ql)?:\/\//i.test(url);
  throw new CliError(
    `ds01 store ${command} works on the embedded SQLite store; this DS01 keeps its log in ${postgres ? 'PostgreSQL' : 'EventStoreDB'} (DS01_EVENTSTORE_URL or event_store.url)`,
    {
      hint: postgres
        ? "use PostgreSQL's own tools: `pg_dump --format=custom` for a logical backup (pg_restore to restore, `pg_restore --list` to check one), or `pg_basebackup` with WAL archiving for point-in-time recovery"
        : "use EventStoreDB's file-copy backup: copy a node's chunk and index files (the order is in EventStoreDB's 'Backup and restore' documentation), or run a cluster; its own checks run at start",
    },
  );
}
