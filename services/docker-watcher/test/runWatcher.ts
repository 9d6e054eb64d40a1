// A docker watcher in a process of its own, for tests that kill it with SIGKILL:
//   node runWatcher.ts <store path> <checkpoint path> <docker host>
import { eventCatalog } from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';
import { connectDocker } from '@ds01/host';
import { DockerWatcher } from '../src/index.ts';

const [storePath, checkpointPath, dockerHost] = process.argv.slice(2) as [string, string, string];
const log = (level: string) => (_obj: object, msg: string) => process.stderr.write(`${level} ${msg}\n`);
const watcher = new DockerWatcher({
  store: new SqliteEventStore({ path: storePath, codec: eventCatalog }),
  connection: connectDocker(dockerHost),
  checkpointPath,
  logger: { debug: () => {}, info: log('info'), warn: log('warn'), error: log('error') },
  backoff: { initialMs: 100, maxMs: 1000 },
});
await watcher.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => void watcher.stop().then(() => process.exit(0)));
