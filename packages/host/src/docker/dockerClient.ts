import Dockerode from 'dockerode';
import { DockerHostError } from './errors.ts';

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

/** A Docker daemon DS01 talks to, and where it is (for messages). */
export interface DockerConnection {
  docker: Dockerode;
  /** `unix:///path/to/docker.sock`. */
  host: string;
}

/**
 * Connects (lazily: nothing is sent yet) to the daemon at `dockerHost`, default DOCKER_HOST or
 * /var/run/docker.sock. Only unix sockets: DS01 runs on the Docker host itself.
 */
export function connectDocker(
  dockerHost: string = process.env['DOCKER_HOST'] || DEFAULT_DOCKER_HOST,
  options: { headers?: Record<string, string> } = {},
): DockerConnection {
  const socketPath = dockerHost.startsWith('unix://')
    ? dockerHost.slice('unix://'.length)
    : dockerHost.startsWith('/')
      ? dockerHost
      : undefined;
  if (!socketPath) {
    throw new DockerHostError(
      dockerHost,
      `DOCKER_HOST=${dockerHost} is not a unix socket: DS01 talks to the local daemon only (unix:///var/run/docker.sock)`,
    );
  }
  return {
    docker: new Dockerode({ socketPath, ...(options.headers ? { headers: options.headers } : {}) }),
    host: `unix://${socketPath}`,
  };
}
