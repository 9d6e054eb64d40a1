import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { describe, it } from 'vitest';

/**
 * The test PostgreSQL server: DS01_TEST_POSTGRES_URL (scripts/test.sh starts a throwaway cluster of its own
 * and sets it; see scripts/lib/services.sh), else that cluster's usual socket. Each suite makes logs in
 * schemas of its own (`uniqueSchema`), so suites running side by side never see each other's events.
 *
 * When it cannot be reached: with CI set (or DS01_TEST_REQUIRE_POSTGRES=1, which scripts/test.sh sets) the
 * suite FAILS with the reason; otherwise it is reported as skipped, the reason in its name.
 */
export const DEFAULT_TEST_POSTGRES_URL =
  'postgres://postgres@localhost/postgres?host=/run/ds01-test/postgres&port=54329';

const HOW_TO_RUN =
  'Run the PostgreSQL suites with `sudo scripts/test.sh` (it installs Debian’s postgresql when missing and starts ' +
  'a throwaway test cluster on /run/ds01-test/postgres), or point DS01_TEST_POSTGRES_URL at a server DS01 may ' +
  'create schemas on.';

export function postgresRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  const truthy = (v: string | undefined) => v !== undefined && v !== '' && v !== '0' && v !== 'false';
  return truthy(env['CI']) || truthy(env['DS01_TEST_REQUIRE_POSTGRES']);
}

export const testPostgresUrl = process.env['DS01_TEST_POSTGRES_URL'] || DEFAULT_TEST_POSTGRES_URL;

/** Probed at import so that suites can be declared (or skipped) synchronously. */
const probe: { ok: true } | { ok: false; reason: string } = await (async () => {
  const client = new pg.Client({ connectionString: testPostgresUrl, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { ok: true as const };
  } catch (error) {
    return { ok: false as const, reason: (error as Error).message };
  } finally {
    await client.end().catch(() => {});
  }
})();

/** Declares a suite that needs the test PostgreSQL: it fails without one in CI, else skips saying why. */
export function describeWithPostgres(name: string, body: (url: string) => void): void {
  if (probe.ok) {
    describe(name, () => body(testPostgresUrl));
    return;
  }
  const message = `test PostgreSQL at ${testPostgresUrl} is not usable: ${probe.reason}. ${HOW_TO_RUN}`;
  if (postgresRequired()) {
    describe(name, () => {
      it('reaches the test PostgreSQL', () => {
        throw new Error(message);
      });
    });
    return;
  }
  console.warn(`skipping "${name}": ${message}`);
  describe.skip(`${name} [skipped: ${probe.reason} — ${HOW_TO_RUN}]`, () => {
    it('needs the test PostgreSQL', () => {});
  });
}

/** A schema name unique to this run (lowercase, within the adapter's 40 characters). */
export function uniqueSchema(hint: string): string {
  return `t_${hint}_${randomUUID().replaceAll('-', '').slice(0, 12)}`.slice(0, 40);
}

/** Drops the schemas a suite made (their logs), whatever is in them. */
export async function dropSchemas(url: string, schemas: Iterable<string>): Promise<void> {
  const names = [...schemas];
  if (names.length === 0) return;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const name of names) await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** The url of a DS01 log in `schema` on the server at `url` (DS01's own `schema` parameter). */
export function logUrl(url: string, schema: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`;
}
