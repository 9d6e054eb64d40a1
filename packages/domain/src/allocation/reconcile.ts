import type { ExistingGpuContainer, ReconcileGpuPool } from './commands.ts';
import { GpuAllocated, GpuPoolReconciled, GpuReconciliationProblem, type PoolSlot } from './events.ts';
import { decideStartHold } from './holds.ts';
import { inventoryChange } from './inventoryChange.ts';
import { evolvePool, type GpuPoolEvent, type PoolState } from './poolState.ts';

/**
 * ReconcileGpuPool (switch-over from ds01-infra) → a reconciled GpuAllocated for each slot an existing
 * container holds, holds for the stopped ones, a GpuReconciliationProblem for what a person must look
 * at, and GpuPoolReconciled to mark it done. Runs once per pool: afterwards it decides nothing.
 * A slot already held (by the pool, or by an earlier container of the list) is never recorded twice.
 */
export function decideReconcile(command: ReconcileGpuPool, state: PoolState): GpuPoolEvent[] {
  if (state.reconciled) return [];
  const at = command.now.toISOString();
  const events: GpuPoolEvent[] = [];
  let current = state;
  const emit = (produced: GpuPoolEvent[]) => {
    for (const event of produced) {
      events.push(event);
      current = evolvePool(current, event);
    }
  };

  emit(inventoryChange(state, command.inventory, at));
  let slotsRecorded = 0;
  let problems = 0;
  for (const container of command.containers) {
    const found = reconcileContainer(container, command.inventory, current, at);
    slotsRecorded += found.filter((e) => e.type === 'GpuAllocated').length;
    problems += found.filter((e) => e.type === 'GpuReconciliationProblem').length;
    emit(found);
    if (container.stoppedAt !== null) {
      emit(
        decideStartHold(
          {
            type: 'StartGpuHold',
            containerId: container.containerId,
            stoppedAt: container.stoppedAt,
            holdAfterStopHours: container.holdAfterStopHours,
            now: command.now,
          },
          current,
        ),
      );
    }
  }
  emit([
    GpuPoolReconciled({
      source: 'ds01-infra',
      containersSeen: command.containers.length,
      slotsRecorded,
      problems,
      at,
    }),
  ]);
  return events;
}

function reconcileContainer(
  container: ExistingGpuContainer,
  inventory: readonly PoolSlot[],
  state: PoolState,
  at: string,
): GpuPoolEvent[] {
  const problem = (
    kind: 'unknown_device' | 'slot_held_by_other_container' | 'unknown_owner',
    detail: string,
    device: { deviceId?: string; slot?: string } = {},
  ) =>
    GpuReconciliationProblem({
      containerId: container.containerId,
      containerName: container.name,
      user: container.user,
      problem: kind,
      deviceId: device.deviceId ?? null,
      slot: device.slot ?? null,
      detail,
      at,
    });

  const events: GpuPoolEvent[] = [];
  if (container.user === null && container.devices.length > 0) {
    events.push(
      problem(
        'unknown_owner',
        `container ${container.name} holds GPUs but names no owner (no ds01.user label, no ._.<uid> name): ` +
          `its slots are recorded as held by nobody; remove the container or relabel it`,
      ),
    );
  }
  const recorded = new Set<string>();
  for (const device of new Set(container.devices)) {
    const slot = inventory.find((s) => s.deviceId === device) ?? inventory.find((s) => s.slot === device);
    if (!slot) {
      events.push(
        problem(
          'unknown_device',
          `container ${container.name} holds device ${device}, which no slot of this host's GPU inventory has ` +
            `(MIG reconfigured?): check \`nvidia-smi -L\` and the container's --gpus`,
          { deviceId: device },
        ),
      );
      continue;
    }
    if (recorded.has(slot.slot)) continue;
    const holder = state.holdings.get(slot.slot);
    if (holder?.containerId === container.containerId) continue;
    if (holder) {
      events.push(
        problem(
          'slot_held_by_other_container',
          `slot ${slot.slot} of container ${container.name} is already held by container ` +
            `${holder.containerId?.slice(0, 12) ?? '(none)'} of ${holder.user ?? '(unknown owner)'}; ` +
            `ds01-infra granted it twice: stop one of the two containers`,
          { deviceId: device, slot: slot.slot },
        ),
      );
      continue;
    }
    recorded.add(slot.slot);
    events.push(
      GpuAllocated({
        requestId: `ds01-infra:${container.containerId}`,
        slot: slot.slot,
        gpuIndex: slot.gpuIndex,
        profile: slot.profile,
        gpuEquivalents: slot.gpuEquivalents,
        deviceId: slot.deviceId,
        user: container.user,
        containerId: container.containerId,
        observation: 'reconciled',
        since: container.since.toISOString(),
      }),
    );
  }
  return events;
}
