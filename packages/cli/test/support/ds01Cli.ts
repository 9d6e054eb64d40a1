import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { promisify } from 'node:util';
import { eventCatalog, UserDeparted, UserRegistered } from '@ds01/domain';
import { type NewEvent, SqliteEventStore } from '@ds01/event-store';

export const ROOT = join(import.meta.dirname, '..', '..', '..', '..');
/** The `ds01` launcher users run. */
export const DS01_BIN = join(ROOT, 'packages', 'cli', 'bin', 'ds01.js');

export interface Ds01Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `ds01` launcher as a user would, on this data dir. */
export async function runDs01(
  dataDir: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<Ds01Result> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [DS01_BIN, '--data-dir', dataDir, ...args],
      {
        env: { ...process.env, COLUMNS: '', DS01_EVENTSTORE_URL: '', ...env },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

export function newDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'ds01-store-cli-'));
}

/** A domain event as a service writes it. */
export function userEvent(e: { type: string; data: unknown }): NewEvent {
  return {
    ...e,
    metadata: {
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      actor: { kind: 'service', name: 'test' },
      host: 'gpu01',
      correlationId: randomUUID(),
      causationId: null,
    },
  };
}

/**
 * Writes `users` users into the data dir's store, each registered then departed (two events per
 * stream), and returns the store (the caller closes it).
 */
export async function storeWithUsers(dataDir: string, users: number): Promise<SqliteEventStore> {
  const store = new SqliteEventStore({ path: join(dataDir, 'events.db'), codec: eventCatalog });
  await Promise.all(
    Array.from({ length: users }, async (_, i) => {
      const user = `user${i}`;
      await store.append(`user-${user}`, [
        userEvent(UserRegistered({ user, uid: 2000 + i, group: 'students' })),
        userEvent(UserDeparted({ user, reason: 'graduated' })),
      ]);
    }),
  );
  return store;
}

/** Runs SQL on a store file (a copy made to be damaged), as an admin with sqlite3 would. */
export function damage(path: string, sql: string): void {
  // Not defensive: rewriting the schema is one of the damages tried.
  const db = new DatabaseSync(path, { defensive: false });
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}
