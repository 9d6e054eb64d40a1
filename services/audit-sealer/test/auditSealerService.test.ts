import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDs01Config } from '@ds01/config';
import { auditSealStream, eventCatalog, UserRegistered } from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';
import {
  auditProjection,
  openProjectionsDb,
  ProjectionRunner,
  ReadModel,
  sealAuditChain,
} from '@ds01/projections';
import type { ServiceContext } from '@ds01/service';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../../test/support/waitUntil.ts';
import { createAuditSealerService } from '../src/auditSealerService.ts';

describe('audit sealer', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('seals what the audit projection has read on its interval; nothing when only the seal is new', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ds01-sealer-'));
    dirs.push(dir);
    const store = new SqliteEventStore({
      path: join(dir, 'events.db'),
      codec: eventCatalog,
      pollIntervalMs: 10,
    });
    const db = openProjectionsDb(join(dir, 'projections.db'));
    const runner = new ProjectionRunner({ store, db, projections: [auditProjection] });
    const config = loadDs01Config({ dataDir: dir, configDir: dir, env: {}, checkoutRoot: null });
    for (const user of ['alice', 'bob']) {
      await store.append(`user-${user}`, [
        {
          ...UserRegistered({ user, uid: 1000, group: 'student' }),
          metadata: {
            eventId: randomUUID(),
            occurredAt: new Date().toISOString(),
            actor: { kind: 'service', name: 'test' },
            host: 'gpu01',
            correlationId: randomUUID(),
            causationId: null,
          },
        },
      ]);
    }
    await runner.start();
    const context = {
      store,
      logger: pino({ level: 'silent' }),
      config: { ...config, host: 'gpu01' },
      paths: config.paths,
      projections: { runner, db },
    } as ServiceContext;
    const sealer = await createAuditSealerService({ intervalMs: 50 }).start(context);
    const seals = async () => {
      const found = [];
      for await (const e of store.readStream(auditSealStream('gpu01')))
        found.push(e.data as { upTo: number });
      return found;
    };
    try {
      await waitUntil(async () => (await seals()).length === 1, 'the first seal');
      expect((await seals())[0]).toMatchObject({ upTo: 2, events: 2 });
      // Once the projection has read the seal, the seal itself is no reason to seal again.
      await runner.waitFor(await store.headPosition());
      const again = await sealAuditChain({
        store,
        readModel: new ReadModel(join(dir, 'projections.db')),
        host: 'gpu01',
        actor: { kind: 'service', name: 'test' },
        now: new Date(),
      });
      expect(again).toBeNull();
    } finally {
      await sealer.stop();
      await runner.stop();
      db.close();
      await store.close();
    }
  });
});
