/**
 * The one seam between the gateway and the create policy (branch `createpolicy`, issue 9 item 2):
 * `decideContainerCreate` and `withGrantedDevices` (packages/domain/src/gateway/createPolicy.ts) and
 * allocation's gateway path (`allocateForCreate` / `bindGrant` / `releaseGrant` in
 * packages/allocation). Until that branch is merged, this file holds a deliberately small stand-in
 * with the same signatures: it sets the standard labels, refuses `ds01.*` labels set by the caller
 * and privileged mode, and reads a GPU request from DeviceRequests. At the merge, replace the
 * stand-ins below by the real functions; the gateway imports only from here:
 *
 *   export { decideContainerCreate, withGrantedDevices, type CreateDecision, ... } from '@ds01/domain';
 *   allocateForCreate → allocator.allocateForCreate({ user, request }, actor)  (grantId = requestId)
 *   bindGrant         → allocator.bindGrant(grant.grantId, containerId, actor)
 *                       (GrantNotPendingError: the container must not run with them: remove it)
 *   releaseGrant      → allocator.releaseGrant(grant.grantId, actor)
 *
 * and fill the context as the real CreatePolicyContext asks: limits = createPolicyLimits(effective
 * limits) (packages/config), realPaths from createBindSources(body), ownContainers, deviceAllowlist.
 */
import type { GpuAllocator } from '@ds01/allocation';
import { type GatewayInterface, type GpuRequest, Label } from '@ds01/domain';

export interface CreateRequest {
  /** The canonical body of POST /containers/create (goJson.ts: Go's field names, types checked). */
  body: Record<string, unknown>;
  query: { name?: string; platform?: string };
}

export interface CreatePolicyContext {
  user: { name: string; uid: number; gid: number; group: string };
  interface: GatewayInterface;
  limits: Record<string, unknown>;
  runningContainers: number;
  allowedBindRoots: string[];
  capabilityAllowlist: string[];
  daemonDefaultRuntime: string | null;
  now: string;
}

export type CreateDecision =
  | { kind: 'refused'; rule: string; message: string }
  | { kind: 'allowed'; body: Record<string, unknown>; gpuRequest: GpuRequest | null };

// ---- stand-in for packages/domain/src/gateway/createPolicy.ts (createpolicy branch) ----

export function decideContainerCreate(request: CreateRequest, context: CreatePolicyContext): CreateDecision {
  const labels = (request.body['Labels'] ?? {}) as Record<string, string>;
  const forged = Object.keys(labels).find((key) => key.startsWith('ds01.'));
  if (forged) {
    return {
      kind: 'refused',
      rule: 'ds01-label',
      message: `label ${forged} is DS01's to set: remove it (DS01 labels your containers itself)`,
    };
  }
  const hostConfig = (request.body['HostConfig'] ?? {}) as Record<string, unknown>;
  if (hostConfig['Privileged'] === true) {
    return {
      kind: 'refused',
      rule: 'privileged',
      message: 'privileged containers are not allowed on this server: drop --privileged',
    };
  }
  const body = {
    ...request.body,
    Labels: {
      ...labels,
      [Label.user]: context.user.name,
      [Label.managed]: 'true',
      [Label.interface]: context.interface === 'devcontainer' ? 'vscode' : context.interface,
    },
  };
  return { kind: 'allowed', body, gpuRequest: gpuRequestOf(hostConfig) };
}

/** `--gpus N` / `--gpus all` / `--gpus device=...` as Docker's CLI sends them (DeviceRequests). */
function gpuRequestOf(hostConfig: Record<string, unknown>): GpuRequest | null {
  const requests = (hostConfig['DeviceRequests'] ?? []) as Array<Record<string, unknown>>;
  const gpu = requests.find(
    (r) =>
      r['Driver'] === 'nvidia' || ((r['Capabilities'] ?? []) as string[][]).some((c) => c.includes('gpu')),
  );
  if (!gpu) return null;
  const ids = (gpu['DeviceIDs'] ?? []) as string[];
  const count = typeof gpu['Count'] === 'number' && gpu['Count'] > 0 ? gpu['Count'] : Math.max(ids.length, 1);
  return { count, profile: null };
}

export function withGrantedDevices(
  body: Record<string, unknown>,
  devices: string[],
): Record<string, unknown> {
  const hostConfig = (body['HostConfig'] ?? {}) as Record<string, unknown>;
  const others = ((hostConfig['DeviceRequests'] ?? []) as Array<Record<string, unknown>>).filter(
    (r) =>
      !(r['Driver'] === 'nvidia' || ((r['Capabilities'] ?? []) as string[][]).some((c) => c.includes('gpu'))),
  );
  return {
    ...body,
    HostConfig: {
      ...hostConfig,
      DeviceRequests: [
        ...others,
        { Driver: 'nvidia', Count: 0, DeviceIDs: devices, Capabilities: [['gpu']] },
      ],
    },
  };
}

// ---- stand-in for allocation's gateway path (packages/allocation, createpolicy branch) ----

export type CreateGrant =
  | { granted: true; grantId: string; devices: string[]; slots: string[] }
  | { granted: false; message: string };

export async function allocateForCreate(
  allocator: GpuAllocator,
  user: string,
  request: GpuRequest,
): Promise<CreateGrant> {
  const outcome = await allocator.allocate(
    { user, request, containerId: null },
    { kind: 'service', name: 'gateway' },
  );
  if (!outcome.granted) return { granted: false, message: outcome.message };
  return {
    granted: true,
    grantId: outcome.requestId,
    devices: outcome.slots.map((s) => s.deviceId),
    slots: outcome.slots.map((s) => s.slot),
  };
}

/**
 * The grant belongs to this container from now on. The stand-in records nothing: binding needs the
 * pool command of the createpolicy branch (until then the slots stay held by the user, unbound).
 */
export async function bindGrant(
  _allocator: GpuAllocator,
  _grant: CreateGrant & { granted: true },
  _containerId: string,
): Promise<void> {}

/** dockerd refused the create: give the slots back. */
export async function releaseGrant(
  allocator: GpuAllocator,
  grant: CreateGrant & { granted: true },
): Promise<void> {
  for (const slot of grant.slots) {
    await allocator.release(
      { target: { slot }, ifNothingHeld: 'ignore' },
      { kind: 'service', name: 'gateway' },
    );
  }
}
