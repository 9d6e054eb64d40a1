import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventCatalog, UserRegistered, userStream } from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';
import { recordEvent } from '../../packages/allocation/test/support.ts';

const ROOT = join(import.meta.dirname, '..', '..');
/** The lab's configuration as ds01-infra ships it (resource limits, groups). */
const LAB = join(ROOT, 'packages', 'config', 'test', 'fixtures', 'ds01-infra', 'lab');

/** Everything one harness run works in: its own data dir, config dir and host name. */
export interface Site {
  folder: string;
  dataDir: string;
  configDir: string;
  host: string;
  /** DOCKER_HOST for ds01d and the docker CLI. */
  dockerHost: string;
  /** Users registered on the log, each with the default limits (1 GPU-equivalent). */
  users: string[];
  /** Labels every container of this run carries: `key=value`. */
  containerLabels: string[];
}

/**
 * A fresh site: the lab's limits, ds01.yaml with this repo's simulated GPUs (4× A100, two with
 * MIG: 12 slots), and the users registered on the log, as an admin's first day would leave it.
 */
export async function createSite(options: {
  dockerHost: string;
  users: number;
  /** The `ds01.test.run` value that cleanupTestRun removes by. */
  runId: string;
}): Promise<Site> {
  const folder = mkdtempSync(join(tmpdir(), 'ds01-faults-'));
  const dataDir = join(folder, 'data');
  const configDir = join(folder, 'config');
  mkdirSync(dataDir);
  cpSync(LAB, configDir, { recursive: true });
  const host = `faults-${options.runId}`;
  writeFileSync(join(configDir, 'ds01.yaml'), `host: ${host}\nlog_level: info\n${simulatedGpus()}`);
  const users = Array.from({ length: options.users }, (_, i) => `faults${i + 1}`);
  const store = new SqliteEventStore({ path: join(dataDir, 'events.db'), codec: eventCatalog });
  try {
    for (const user of users) {
      await recordEvent(store, userStream(user), UserRegistered({ user, uid: null, group: 'student' }), host);
    }
  } finally {
    await store.close();
  }
  return {
    folder,
    dataDir,
    configDir,
    host,
    dockerHost: options.dockerHost,
    users,
    containerLabels: [`ds01.test.run=${options.runId}`, `ds01.faults=${options.runId}`],
  };
}

export function removeSite(site: Site): void {
  rmSync(site.folder, { recursive: true, force: true });
}

/** The `gpus:` section of the repo's config/ds01.yaml, in simulated mode (no nvidia-smi is asked). */
function simulatedGpus(): string {
  const example = readFileSync(join(ROOT, 'config', 'ds01.yaml'), 'utf8');
  const section = example.slice(example.indexOf('\ngpus:') + 1);
  return section.replace(/mode: auto/, 'mode: simulated');
}
