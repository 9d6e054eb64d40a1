import type { Decider } from '@ds01/event-store';
import { decideAllocate } from './allocate.ts';
import type { GpuPoolCommand } from './commands.ts';
import { decideBindGrant, decideReleaseGrant } from './grants.ts';
import { decideEndHold, decideExpireHolds, decideStartHold } from './holds.ts';
import { inventoryChange } from './inventoryChange.ts';
import { evolvePool, type GpuPoolEvent, initialPoolState, type PoolState } from './poolState.ts';
import { decideReconcile } from './reconcile.ts';
import { decideRelease } from './release.ts';

/** Decides every command of one host's GPU pool (stream `gpu-pool-<host>`). */
export function decideGpuPool(command: GpuPoolCommand, state: PoolState): GpuPoolEvent[] {
  switch (command.type) {
    case 'RecordPoolInventory':
      return inventoryChange(state, command.inventory, command.now.toISOString());
    case 'AllocateGpu':
      return decideAllocate(command, state);
    case 'ReleaseGpu':
      return decideRelease(command, state);
    case 'StartGpuHold':
      return decideStartHold(command, state);
    case 'EndGpuHold':
      return decideEndHold(command, state);
    case 'ExpireGpuHolds':
      return decideExpireHolds(command, state);
    case 'ReconcileGpuPool':
      return decideReconcile(command, state);
    case 'BindGpuGrant':
      return decideBindGrant(command, state);
    case 'ReleaseGpuGrant':
      return decideReleaseGrant(command, state);
  }
}

export const gpuPoolDecider: Decider<GpuPoolCommand, GpuPoolEvent, PoolState> = {
  decide: decideGpuPool,
  evolve: evolvePool,
  initialState: initialPoolState,
};
