import type { GpuAllocator } from '@ds01/allocation';
import type { ResourceLimits } from '@ds01/config';
import {
  AccessDenied,
  AdminCallForwarded,
  ContainerCreateAuthorized,
  containerStream,
  gatewayStream,
  type ImageBuilt,
  type ImageRemoved,
  imagesStream,
} from '@ds01/domain';
import { type EventStore, newEventId } from '@ds01/event-store';
import type { GridIntensity, ReadModel } from '@ds01/projections';
import type { Logger } from 'pino';
import { type Caller, callerName } from './access/caller.ts';
import type { ContainerOwners, ExecContainers } from './access/ownership.ts';
import type { DockerUpstream } from './upstream/dockerUpstream.ts';

/** `docker info`'s DefaultRuntime and NCPU; null where the daemon did not say. */
export interface DaemonInfo {
  defaultRuntime: string | null;
  cpus: number | null;
}

/** What every request handler of the gateway shares. */
export interface GatewayContext {
  upstream: DockerUpstream;
  store: EventStore;
  host: string;
  logger: Logger;
  owners: ContainerOwners;
  execs: ExecContainers;
  allocator: GpuAllocator;
  /** The lab's resource limits now (the policy watcher's files); throws a ConfigError when they do not load. */
  resourceLimits(): ResourceLimits;
  /** The read models (containers, allocation, users), read-only, for the DS01 API. */
  readModel(): ReadModel;
  /** analytics.grid_intensity of ds01.yaml: the usage API's CO2, as `ds01 usage` computes it. */
  gridIntensity: readonly GridIntensity[];
  maxBodyBytes: number;
  /** What the create policy allows beyond the user's home: gateway.bind_roots, the capability and device allowlists. */
  createRules: { bindRoots: string[]; capabilityAllowlist: string[]; deviceAllowlist: string[] };
  /** images.max_size_gb of ds01.yaml in bytes (null: no limit): a user's build larger is removed. */
  images: { maxSizeBytes: number | null };
  /** What the create policy needs of `docker info`, read once. */
  daemonInfo(): Promise<DaemonInfo>;
  clock: () => Date;
}

function metadata(context: GatewayContext, caller: Caller) {
  return {
    eventId: newEventId(),
    occurredAt: context.clock().toISOString(),
    actor: { kind: 'user' as const, name: callerName(caller) },
    host: context.host,
    correlationId: newEventId(),
    causationId: null,
  };
}

/** Records a refusal. A refusal that cannot be recorded is still a refusal: it is logged instead. */
export async function recordDenial(
  context: GatewayContext,
  caller: Caller,
  denial: { endpoint: string; target: string | null; rule: string; message: string; status: number },
): Promise<void> {
  const user = caller.kind === 'user' ? caller.user : 'root';
  try {
    await context.store.append(gatewayStream(context.host), [
      { ...AccessDenied({ user, ...denial }), metadata: metadata(context, caller) },
    ]);
  } catch (error) {
    context.logger.error({ err: error, user, ...denial }, 'gateway: could not record a refusal');
  }
}

/** Records the creation on the container's own stream: its kernel-checked owner. */
export async function recordCreation(
  context: GatewayContext,
  caller: Caller,
  data: Parameters<typeof ContainerCreateAuthorized>[0],
): Promise<void> {
  await context.store.append(containerStream(data.containerId), [
    { ...ContainerCreateAuthorized(data), metadata: metadata(context, caller) },
  ]);
  context.owners.record(data.containerId, data.user);
}

/** Records an event of a user's images (ImageBuilt, ImageRemoved) on the host's images stream. */
export async function recordImageEvent(
  context: GatewayContext,
  caller: Caller,
  event: ReturnType<typeof ImageBuilt> | ReturnType<typeof ImageRemoved>,
): Promise<void> {
  await context.store.append(imagesStream(context.host), [{ ...event, metadata: metadata(context, caller) }]);
}

export async function recordAdminCall(
  context: GatewayContext,
  caller: Caller,
  call: { method: string; path: string; query: Array<[string, string]> },
): Promise<void> {
  await context.store.append(gatewayStream(context.host), [
    { ...AdminCallForwarded({ ...call, uid: caller.uid }), metadata: metadata(context, caller) },
  ]);
}
