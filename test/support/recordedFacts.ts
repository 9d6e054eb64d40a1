import { join } from 'node:path';
import {
  type Attribution,
  ContainerCreated,
  ContainerDescribed,
  containerStream,
  eventCatalog,
  GpuInventoryObserved,
  gpuInventoryStream,
} from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';
import { recordEvent } from '../../packages/allocation/test/support.ts';
import { mixedInventory } from '../../packages/domain/test/allocation/pools.ts';

/**
 * Facts a data dir's log holds before a CLI test runs, as ds01d's watchers would have recorded them:
 * the GPU inventory of a host, and containers with their described owner.
 */

/** Creates `<dataDir>/events.db` holding the mixed test inventory of `host`; returns the open store. */
export async function storeWithInventory(dataDir: string, host = 'gpu01'): Promise<SqliteEventStore> {
  const store = new SqliteEventStore({ path: join(dataDir, 'events.db'), codec: eventCatalog });
  await recordEvent(
    store,
    gpuInventoryStream(host),
    GpuInventoryObserved({ inventory: mixedInventory, at: new Date().toISOString() }),
  );
  return store;
}

/** A container created and described, as the docker watcher records it, owned as `owner` says. */
export async function recordContainer(
  store: SqliteEventStore,
  container: { id: string; name: string; owner: Attribution },
): Promise<void> {
  const ref = {
    containerId: container.id,
    name: container.name,
    observation: 'observed' as const,
    dockerEvent: null,
  };
  const stream = containerStream(container.id);
  await recordEvent(store, stream, ContainerCreated({ ...ref, image: 'busybox', labels: {} }));
  await recordEvent(
    store,
    stream,
    ContainerDescribed({
      ...ref,
      describedFrom: 'inspect',
      image: 'busybox',
      imageId: 'sha256:1',
      createdAt: new Date().toISOString(),
      owner: container.owner,
      interface: 'other',
      type: 'docker',
      managed: false,
      infrastructure: false,
      gpu: { access: 'none' },
      cgroupParent: null,
      limits: null,
      labels: {},
    }),
  );
}
