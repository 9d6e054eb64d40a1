import { ContainerInspect } from '@ds01/domain';
import type { DockerConnection } from './dockerClient.ts';
import { DockerAnswerError, DockerUnreachableError, isConnectionError, statusCodeOf } from './errors.ts';

/** Parses a daemon's inspect answer, naming the first field that does not fit. */
export function parseInspect(
  connection: Pick<DockerConnection, 'host'>,
  id: string,
  raw: unknown,
): ContainerInspect {
  const parsed = ContainerInspect.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new DockerAnswerError(
    connection.host,
    `GET /containers/${id}/json`,
    issue.path.join('.') || '(answer)',
    issue.message,
  );
}

/** `docker inspect <id>`; undefined when the container no longer exists. */
export async function inspectContainer(
  connection: DockerConnection,
  id: string,
): Promise<ContainerInspect | undefined> {
  let raw: unknown;
  try {
    raw = await connection.docker.getContainer(id).inspect();
  } catch (error) {
    if (statusCodeOf(error) === 404) return undefined;
    if (isConnectionError(error)) throw new DockerUnreachableError(connection.host, error);
    throw error;
  }
  return parseInspect(connection, id, raw);
}

/** Every container id the daemon has (`docker ps -a -q --no-trunc`). */
export async function listContainerIds(connection: DockerConnection): Promise<string[]> {
  try {
    const containers = await connection.docker.listContainers({ all: true });
    return containers.map((c) => c.Id);
  } catch (error) {
    if (isConnectionError(error)) throw new DockerUnreachableError(connection.host, error);
    throw error;
  }
}

/** When a read of the daemon was sent and answered (ISO instants, ms: `from` rounded down, `until` up). */
export interface ReadWindow {
  from: string;
  until: string;
}

export interface InspectedContainer {
  inspect: ContainerInspect;
  /** When its inspect was sent and answered: the state read lies between. */
  window: ReadWindow;
}

/** Every container the daemon has, each with the window its state was read in. */
export interface ContainerSnapshot {
  /** When `docker ps -a` was sent and answered: a container it lacks was removed before it answered. */
  listed: ReadWindow;
  containers: InspectedContainer[];
  /** Listed, but gone before their inspect: removed while the daemon was read (their events tell when). */
  vanished: string[];
}

/**
 * `docker ps -a` + inspect of each, with bounded concurrency (a thousand containers in well under a
 * second), each read timed (see ReadWindow). A container removed between the list and its inspect is
 * simply not there.
 */
export async function snapshotContainers(
  connection: DockerConnection,
  concurrency = 16,
): Promise<ContainerSnapshot> {
  const listed = await timed(() => listContainerIds(connection));
  const ids = listed.value;
  const results: (InspectedContainer | undefined)[] = new Array(ids.length);
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const index = next++;
      const { value: inspect, window } = await timed(() => inspectContainer(connection, ids[index]!));
      results[index] = inspect && { inspect, window };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
  return {
    listed: listed.window,
    containers: results.filter((r): r is InspectedContainer => r !== undefined),
    vanished: ids.filter((_, index) => results[index] === undefined),
  };
}

/** `docker ps -a -q --no-trunc` with the window it was answered in. */
export async function listContainersTimed(
  connection: DockerConnection,
): Promise<{ ids: string[]; window: ReadWindow }> {
  const { value: ids, window } = await timed(() => listContainerIds(connection));
  return { ids, window };
}

/** One container's inspect (undefined: it is gone) with the window it was read in. */
export async function readContainer(
  connection: DockerConnection,
  id: string,
): Promise<{ inspect: ContainerInspect | undefined; window: ReadWindow }> {
  const { value: inspect, window } = await timed(() => inspectContainer(connection, id));
  return { inspect, window };
}

/** `docker ps -a` + inspect of each (snapshotContainers without the times). */
export async function inspectAllContainers(
  connection: DockerConnection,
  concurrency = 16,
): Promise<ContainerInspect[]> {
  return (await snapshotContainers(connection, concurrency)).containers.map((c) => c.inspect);
}

async function timed<T>(read: () => Promise<T>): Promise<{ value: T; window: ReadWindow }> {
  const from = new Date(Date.now()).toISOString();
  const value = await read();
  // +1: the millisecond the answer came in has begun; the next one is surely after it.
  const until = new Date(Date.now() + 1).toISOString();
  return { value, window: { from, until } };
}

/** The daemon's default runtime (`docker info`): "runc", or "nvidia" on GPU hosts configured so. */
export async function defaultRuntime(connection: DockerConnection): Promise<string> {
  try {
    const info = (await connection.docker.info()) as { DefaultRuntime?: string };
    return info.DefaultRuntime || 'runc';
  } catch (error) {
    if (isConnectionError(error)) throw new DockerUnreachableError(connection.host, error);
    throw error;
  }
}
