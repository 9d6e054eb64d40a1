import type { ReleaseGpu } from './commands.ts';
import { NothingToReleaseError } from './errors.ts';
import { GpuReleased } from './events.ts';
import { containerSlots, type GpuPoolEvent, type Holding, type PoolState } from './poolState.ts';

/** ReleaseGpu → one GpuReleased per slot the container (or the named slot) holds. */
export function decideRelease(command: ReleaseGpu, state: PoolState): GpuPoolEvent[] {
  const { target } = command;
  const held: Holding[] =
    'containerId' in target
      ? containerSlots(state, target.containerId)
      : [state.holdings.get(target.slot)].filter((h): h is Holding => h !== undefined);
  if (held.length === 0) {
    if (command.ifNothingHeld === 'ignore') return [];
    throw new NothingToReleaseError(target);
  }
  const at = command.now.toISOString();
  return held.map((h) =>
    GpuReleased({ slot: h.slot, user: h.user, containerId: h.containerId, reason: command.reason, at }),
  );
}
