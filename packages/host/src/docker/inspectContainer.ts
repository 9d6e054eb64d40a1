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

/**
 * `docker ps -a` + inspect of each, with bounded concurrency (a thousand containers in well under a
 * second). A container removed between the list and its inspect is simply not there.
 */
export async function inspectAllContainers(
  connection: DockerConnection,
  concurrency = 16,
): Promise<ContainerInspect[]> {
  const ids = await listContainerIds(connection);
  const results: (ContainerInspect | undefined)[] = new Array(ids.length);
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const index = next++;
      results[index] = await inspectContainer(connection, ids[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
  return results.filter((r): r is ContainerInspect => r !== undefined);
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
