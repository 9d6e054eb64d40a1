// An enforcer in a process of its own, for tests that kill it with SIGKILL mid-retirement:
//   node runEnforcer.ts <data dir> <docker host> <clock offset ms> <lifecycle config JSON>
// It keeps its own projections database (the test's process has its own) and follows the log.
import { join } from 'node:path';
import { DEFAULT_LIFECYCLE_CONFIG } from '@ds01/config';
import { eventCatalog } from '@ds01/domain';
import { Enforcer } from '@ds01/enforcer';
import { SqliteEventStore } from '@ds01/event-store';
import { connectDocker } from '@ds01/host';
import { dbRows, LifecycleReadModel } from '@ds01/lifecycle';
import { allProjections, openProjectionsDb, ProjectionRunner } from '@ds01/projections';
import { HOST } from './lifecycleHarness.ts';

const [dataDir, dockerHost, offset, configJson] = process.argv.slice(2) as [string, string, string, string];
const store = new SqliteEventStore({
  path: join(dataDir, 'events.db'),
  codec: eventCatalog,
  pollIntervalMs: 20,
});
const db = openProjectionsDb(join(dataDir, 'enforcer-projections.db'));
const runner = new ProjectionRunner({ store, db, projections: allProjections });
await runner.start();
const log = (level: string) => (_obj: object, msg: string) => process.stderr.write(`${level} ${msg}\n`);
const enforcer = new Enforcer({
  store,
  lifecycle: new LifecycleReadModel(dbRows(db)),
  connection: connectDocker(dockerHost),
  host: HOST,
  config: { ...DEFAULT_LIFECYCLE_CONFIG, ...JSON.parse(configJson) },
  now: () => new Date(Date.now() + Number(offset)),
  logger: { debug: () => {}, info: log('info'), warn: log('warn'), error: log('error') },
});
process.stdout.write('ready\n');
for (;;) {
  await runner.waitFor(await store.headPosition());
  await enforcer.runOnce();
  await new Promise((resolve) => setTimeout(resolve, 50));
}
