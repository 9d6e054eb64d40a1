/**
 * The gateway's one seam to the create policy and to allocation's path for a create: the pure
 * decision on the body (packages/domain/src/gateway: decideContainerCreate, withGrantedDevices,
 * createBindSources) and the pending grant that dockerd's answer binds to the container or gives back
 * (packages/allocation: allocateForCreate, bindGrant, releaseGrant). The gateway's create handler
 * imports only from here.
 */
import type { GpuAllocator } from '@ds01/allocation';
import type { DenialReason, GpuRequest } from '@ds01/domain';

export {
  type CreateDecision,
  type CreatePolicyContext,
  type CreateRequest,
  createBindSources,
  decideContainerCreate,
  withGrantedDevices,
} from '@ds01/domain';

const ACTOR = { kind: 'service' as const, name: 'gateway' };

export type CreateGrant =
  | { granted: true; grantId: string; devices: string[]; slots: string[] }
  | { granted: false; message: string; reason: DenialReason };

/** Slots for a container dockerd has not created yet: pending until bindGrant, released at its deadline. */
export async function allocateForCreate(
  allocator: GpuAllocator,
  user: string,
  request: GpuRequest,
): Promise<CreateGrant> {
  const outcome = await allocator.allocateForCreate({ user, request }, ACTOR);
  if (!outcome.granted) return { granted: false, message: outcome.message, reason: outcome.reason };
  return {
    granted: true,
    grantId: outcome.requestId,
    devices: outcome.slots.map((s) => s.deviceId),
    slots: outcome.slots.map((s) => s.slot),
  };
}

/** dockerd created the container: the grant is its from now on (GpuGrantBound). */
export async function bindGrant(
  allocator: GpuAllocator,
  grant: CreateGrant & { granted: true },
  containerId: string,
): Promise<void> {
  await allocator.bindGrant(grant.grantId, containerId, ACTOR);
}

/** dockerd refused the create, or never answered: the slots are free again. */
export async function releaseGrant(
  allocator: GpuAllocator,
  grant: CreateGrant & { granted: true },
): Promise<void> {
  await allocator.releaseGrant(grant.grantId, ACTOR);
}
