import type { IncomingMessage } from 'node:http';
import type { DockerConnection } from './dockerClient.ts';
import { DockerHostError, DockerUnreachableError, isConnectionError, statusCodeOf } from './errors.ts';

/** A Docker call that did not answer in time: the daemon may still carry it out. */
export class DockerTimeoutError extends DockerHostError {
  override name = 'DockerTimeoutError';
  constructor(dockerHost: string, call: string, timeoutMs: number) {
    super(dockerHost, `${call} on ${dockerHost} did not answer within ${Math.round(timeoutMs / 1000)} s`);
  }
}

/** What a stop or remove found: done by this call, already so (nothing sent changed it), gone. */
export type ActionResult = 'done' | 'already' | 'gone';

async function withDeadline<T>(
  connection: DockerConnection,
  call: string,
  timeoutMs: number,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await run(controller.signal);
  } catch (error) {
    if (controller.signal.aborted) throw new DockerTimeoutError(connection.host, call, timeoutMs);
    if (isConnectionError(error)) throw new DockerUnreachableError(connection.host, error);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `docker stop -t <grace>`: SIGTERM (or the image's stop signal), SIGKILL after `graceSeconds`.
 * 'already' when it was not running (Docker's 304), 'gone' when it no longer exists. The deadline is
 * the grace plus `timeoutMs`: dockerd answers only once the container has stopped.
 */
export function stopContainer(
  connection: DockerConnection,
  id: string,
  graceSeconds: number,
  timeoutMs: number,
): Promise<ActionResult> {
  return withDeadline(
    connection,
    `POST /containers/${id}/stop`,
    graceSeconds * 1000 + timeoutMs,
    async (signal) => {
      try {
        await connection.docker.getContainer(id).stop({ t: graceSeconds, abortSignal: signal });
        return 'done';
      } catch (error) {
        const status = statusCodeOf(error);
        if (status === 304) return 'already';
        if (status === 404) return 'gone';
        throw error;
      }
    },
  );
}

/** `docker rm` (with its anonymous volumes, as `docker rm -v`); 'gone' when it no longer exists. */
export function removeContainer(
  connection: DockerConnection,
  id: string,
  timeoutMs: number,
): Promise<ActionResult> {
  return withDeadline(connection, `DELETE /containers/${id}`, timeoutMs, async (signal) => {
    try {
      await connection.docker.getContainer(id).remove({ v: true, abortSignal: signal });
      return 'done';
    } catch (error) {
      if (statusCodeOf(error) === 404) return 'gone';
      throw error;
    }
  });
}

/** A file in a container, as Docker's archive API states it (what `docker cp` reads first). */
export interface ContainerPathStat {
  size: number;
  /** Modification time (ISO). */
  modifiedAt: string;
}

/**
 * Stats a path inside a container through Docker's archive API (HEAD /containers/<id>/archive): no
 * exec, no shell or `stat` needed in the image, works for bind mounts and for stopped containers.
 * undefined when the path (or the container) does not exist.
 */
export function statContainerPath(
  connection: DockerConnection,
  id: string,
  path: string,
  timeoutMs: number,
): Promise<ContainerPathStat | undefined> {
  return withDeadline(connection, `HEAD /containers/${id}/archive`, timeoutMs, async (signal) => {
    let response: IncomingMessage;
    try {
      response = (await connection.docker
        .getContainer(id)
        .infoArchive({ path, abortSignal: signal })) as IncomingMessage;
    } catch (error) {
      if (statusCodeOf(error) === 404) return undefined;
      throw error;
    }
    response.resume();
    const header = response.headers['x-docker-container-path-stat'];
    if (typeof header !== 'string') return undefined;
    const stat = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as {
      size: number;
      mtime: string;
    };
    return { size: stat.size, modifiedAt: new Date(stat.mtime).toISOString() };
  });
}
