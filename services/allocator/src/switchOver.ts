import type { GpuAllocator, LimitsSource } from '@ds01/allocation';
import {
  type ContainerInspect,
  containerName,
  containerStoppedAt,
  ds01InfraDevices,
  ds01InfraGrantTime,
  type ExistingGpuContainer,
  type GpuPoolEvent,
} from '@ds01/domain';
import type { Actor } from '@ds01/event-store';
import {
  type DockerConnection,
  DockerUnreachableError,
  defaultRuntime,
  describeOnHost,
  HostUserDirectory,
  inspectContainer,
  isConnectionError,
} from '@ds01/host';

export interface SwitchOverOptions {
  connection: DockerConnection;
  allocator: GpuAllocator;
  limits: LimitsSource;
  actor: Actor;
  /** Only containers matching these Docker filters (tests on a shared daemon); default every one. */
  filters?: Record<string, string[]>;
  users?: HostUserDirectory;
}

export interface SwitchOverResult {
  /** False when the pool had already taken over (the switch-over runs once per host). */
  ran: boolean;
  containersWithGpus: number;
  events: GpuPoolEvent[];
}

/**
 * Takes over what ds01-infra's containers hold, on ds01d's first start on such a host: every
 * container (running, stopped or only created) is inspected, the devices it holds read from its
 * DeviceRequests or ds01-infra's labels, its owner resolved as ds01-infra did, and the pool records
 * them as reconciled GpuAllocated for those owners (stopped ones on hold), in the order they were
 * granted: nothing held is lost, and nothing is granted twice.
 */
export async function switchOverFromDs01Infra(options: SwitchOverOptions): Promise<SwitchOverResult> {
  const { allocator, connection } = options;
  if ((await allocator.state()).reconciled) return { ran: false, containersWithGpus: 0, events: [] };
  const runtime = await defaultRuntime(connection);
  const facts = { users: options.users ?? new HostUserDirectory(), defaultRuntime: runtime };
  const containers: ExistingGpuContainer[] = [];
  for (const inspect of await inspectListed(connection, options.filters)) {
    const devices = ds01InfraDevices(inspect, runtime);
    if (devices.length === 0) continue;
    const { owner } = await describeOnHost(inspect, facts);
    containers.push({
      containerId: inspect.Id,
      name: containerName(inspect),
      user: owner.user,
      devices,
      since: ds01InfraGrantTime(inspect),
      stoppedAt: containerStoppedAt(inspect),
      holdAfterStopHours: (await options.limits.limitsFor(owner.user)).holdAfterStopHours,
    });
  }
  containers.sort(
    (a, b) => a.since.getTime() - b.since.getTime() || a.containerId.localeCompare(b.containerId),
  );
  const events = await allocator.reconcile(containers, options.actor);
  return { ran: true, containersWithGpus: containers.length, events };
}

async function inspectListed(
  connection: DockerConnection,
  filters: Record<string, string[]> | undefined,
): Promise<ContainerInspect[]> {
  let ids: string[];
  try {
    const listed = await connection.docker.listContainers({ all: true, ...(filters ? { filters } : {}) });
    ids = listed.map((c) => c.Id);
  } catch (error) {
    if (isConnectionError(error)) throw new DockerUnreachableError(connection.host, error);
    throw error;
  }
  const inspected: ContainerInspect[] = [];
  for (const id of ids) {
    const inspect = await inspectContainer(connection, id);
    if (inspect) inspected.push(inspect);
  }
  return inspected;
}
