import { type Ds01Config, gpusConfigOf } from '@ds01/config';
import type { EventStore } from '@ds01/event-store';
import { selectGpuSource } from '@ds01/host';
import { GpuAllocator } from './gpuAllocator.ts';
import { inventoryFrom } from './inventorySource.ts';
import { limitsFromConfigDir } from './limitsSource.ts';
import type { InventorySource } from './ports.ts';
import { storedInventory } from './storedInventory.ts';
import { hostUserStatus } from './userStatus.ts';

/**
 * The GPU inventory a process without the gpu-sampler uses (the CLI): the last one the sampler
 * recorded in the log, or, before ds01d ever ran, one probe of the source ds01.yaml configures.
 */
export function recordedInventory(store: EventStore, config: Ds01Config): InventorySource {
  return inventoryFrom(async () => {
    const recorded = await storedInventory(store, config.host);
    if (recorded) return recorded.inventory;
    const source = await selectGpuSource(gpusConfigOf(config.yaml));
    return (await source.probe()).inventory;
  }, `the log (gpu-inventory-${config.host}), else the gpus: source of ds01.yaml`);
}

/**
 * This host's allocator as ds01d and the CLI run it: the pool stream `gpu-pool-<host>`, the lab's
 * resource limits from the config dir, users from the log and the host's accounts.
 */
export function hostAllocator(options: {
  store: EventStore;
  config: Ds01Config;
  inventory?: InventorySource;
}): GpuAllocator {
  const { store, config } = options;
  return new GpuAllocator({
    store,
    host: config.host,
    limits: limitsFromConfigDir(config.paths.configDir),
    inventory: options.inventory ?? recordedInventory(store, config),
    users: hostUserStatus(store),
  });
}
