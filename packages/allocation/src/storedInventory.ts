import { type GpuInventory, GpuInventorySchema, gpuInventoryStream } from '@ds01/domain';
import type { EventStore } from '@ds01/event-store';

/**
 * The host's inventory as last recorded (the stream's last GpuInventoryObserved), for readers in
 * another process than the sampler (the CLI, a separately run service). Null before the first probe.
 */
export async function storedInventory(
  store: EventStore,
  host: string,
): Promise<{ inventory: GpuInventory; at: string } | null> {
  for await (const event of store.readStream(gpuInventoryStream(host), { direction: 'backwards' })) {
    if (event.type !== 'GpuInventoryObserved') continue;
    const data = event.data as { inventory: unknown; at: string };
    return { inventory: GpuInventorySchema.parse(data.inventory), at: data.at };
  }
  return null;
}
