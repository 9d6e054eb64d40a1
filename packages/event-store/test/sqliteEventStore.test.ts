import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SqliteEventStore } from '../src/index.ts';
import { describeEventStoreContract } from './contract/eventStoreContract.ts';

const folder = mkdtempSync(join(tmpdir(), 'ds01-sqlite-contract-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describeEventStoreContract(
  'SQLite',
  async (codec, logName) =>
    new SqliteEventStore({ path: join(folder, `${logName}.sqlite`), codec, pollIntervalMs: 20 }),
);
