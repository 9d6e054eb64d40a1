import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import type Dockerode from 'dockerode';
import { connectDocker, type DockerConnection } from './dockerClient.ts';
import { DockerHostError, DockerUnreachableError, isConnectionError, statusCodeOf } from './errors.ts';

/**
 * A user's Docker through their own gateway socket (`/run/ds01/users/<name>/docker.sock`): what
 * `ds01 container ...` and `ds01 image ...` do for them. Everything goes through the gateway, so its
 * policy (labels, limits, slice, GPU grant, isolation) applies exactly as to the docker CLI; nothing
 * here has more rights than the user.
 */

/** The gateway (or dockerd behind it) said no: its message, and for a GPU denial the allocator's reason. */
export class DockerRefusedError extends DockerHostError {
  override name = 'DockerRefusedError';
  readonly status: number;
  /** The gateway's rule (`gpu-denied`, `create-policy:privileged`, ...) when it said one. */
  readonly rule: string | undefined;
  /** The allocator's reason of a GPU denial (`{ code: 'over_quota', held, limit, requested }`). */
  readonly reason: ({ code: string } & Record<string, unknown>) | undefined;
  constructor(dockerHost: string, call: string, status: number, body: unknown) {
    const answer = (body ?? {}) as { message?: unknown; rule?: unknown; reason?: unknown };
    const message =
      typeof answer.message === 'string'
        ? answer.message
        : typeof body === 'string'
          ? body
          : `status ${status}`;
    super(dockerHost, message.trim());
    this.status = status;
    this.rule = typeof answer.rule === 'string' ? answer.rule : undefined;
    this.reason =
      answer.reason && typeof answer.reason === 'object' && 'code' in answer.reason
        ? (answer.reason as { code: string })
        : undefined;
    this.call = call;
  }
  readonly call: string;
}

export interface UserContainer {
  id: string;
  /** The Docker name (`thesis._.1001`). */
  dockerName: string;
  image: string;
  /** Docker's state word: created, running, exited, ... */
  state: string;
  /** Docker's status line: "Up 3 minutes", "Exited (0) 2 hours ago". */
  status: string;
  createdAt: string;
  /** The GPU/MIG UUIDs the gateway granted (its `ds01.gpu.uuids` label). */
  gpus: string[];
  /** What is mounted at /workspace. */
  workspace: string | null;
}

export interface UserImage {
  /** The tag: `ds01-alice/thesis:latest`. */
  image: string;
  id: string;
  sizeBytes: number;
  createdAt: string;
}

export interface DeploySpec {
  dockerName: string;
  image: string;
  /** A host folder of the user's, mounted at /workspace. */
  workspace: string;
  /** GPUs to ask the gateway for: a count, of one profile or any (null: no GPU). */
  gpus: { count: number; profile: string | null } | null;
  labels?: Record<string, string>;
  /** false: create only (ds01-infra's container-create); the GPUs are granted at create all the same. */
  start?: boolean;
}

/** The DeviceRequest option that names a GPU profile (the create policy reads it). */
const GPU_PROFILE_OPTION = 'ds01.profile';

export class UserDocker {
  readonly connection: DockerConnection;
  readonly socketPath: string;

  constructor(socketPath: string) {
    this.socketPath = socketPath;
    // Every call says it comes from a ds01 command: the gateway labels what it creates `atomic`
    // (ds01-infra's word), a claim that decides nothing enforced (see its detectInterface).
    this.connection = connectDocker(`unix://${socketPath}`, { headers: { 'X-DS01-Interface': 'atomic' } });
  }

  get #docker(): Dockerode {
    return this.connection.docker;
  }

  /**
   * Creates the container as `docker run -dit` would (a terminal and open stdin, so a shell image
   * stays up and `attach` reaches it), the workspace at /workspace, then starts it. A container that
   * was created but would not start is removed: nothing half-made is left (its GPUs go back).
   */
  async deploy(spec: DeploySpec): Promise<{ id: string }> {
    const created = await this.#call('POST /containers/create', () =>
      this.#docker.createContainer({
        name: spec.dockerName,
        Image: spec.image,
        Tty: true,
        OpenStdin: true,
        AttachStdin: false,
        WorkingDir: '/workspace',
        Labels: spec.labels ?? {},
        HostConfig: {
          Binds: [`${spec.workspace}:/workspace`],
          ...(spec.gpus
            ? {
                DeviceRequests: [
                  {
                    Driver: 'nvidia',
                    Count: spec.gpus.count,
                    Capabilities: [['gpu']],
                    Options: spec.gpus.profile ? { [GPU_PROFILE_OPTION]: spec.gpus.profile } : {},
                  },
                ],
              }
            : {}),
        },
      }),
    );
    if (spec.start === false) return { id: created.id };
    try {
      await this.#call(`POST /containers/${created.id}/start`, () => created.start());
    } catch (error) {
      await created.remove({ force: true, v: true }).catch(() => {});
      throw error;
    }
    return { id: created.id };
  }

  /** The user's containers (the gateway filters the list to theirs); stopped ones with `all`. */
  async list(all: boolean): Promise<UserContainer[]> {
    const rows = await this.#call('GET /containers/json', () => this.#docker.listContainers({ all }));
    return rows.map((row) => ({
      id: row.Id,
      dockerName: (row.Names[0] ?? '').replace(/^\//, ''),
      image: row.Image,
      state: row.State,
      status: row.Status,
      createdAt: new Date(row.Created * 1000).toISOString(),
      gpus: (row.Labels?.['ds01.gpu.uuids'] ?? '').split(',').filter(Boolean),
      workspace: row.Mounts?.find((m) => m.Destination === '/workspace')?.Source ?? null,
    }));
  }

  /** The container's full id, or undefined when no container of the user has that name or id. */
  async idOf(ref: string): Promise<string | undefined> {
    try {
      const inspect = await this.#call(`GET /containers/${ref}/json`, () =>
        this.#docker.getContainer(ref).inspect(),
      );
      return inspect.Id;
    } catch (error) {
      if (error instanceof DockerRefusedError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** 'already' when it was running (Docker's 304). */
  async start(ref: string): Promise<'done' | 'already'> {
    try {
      await this.#call(`POST /containers/${ref}/start`, () => this.#docker.getContainer(ref).start());
      return 'done';
    } catch (error) {
      if (error instanceof DockerRefusedError && error.status === 304) return 'already';
      throw error;
    }
  }

  /** 'already' when it was not running (Docker's 304). */
  async stop(ref: string, graceSeconds: number): Promise<'done' | 'already'> {
    try {
      await this.#call(`POST /containers/${ref}/stop`, () =>
        // dockerode sends its options as a JSON body too; the gateway refuses a body on stop
        // (dockerd before API 1.24 read one): `t` goes in the query only.
        this.#docker.getContainer(ref).stop({ _query: { t: graceSeconds }, _body: {} } as { t?: number }),
      );
      return 'done';
    } catch (error) {
      if (error instanceof DockerRefusedError && error.status === 304) return 'already';
      throw error;
    }
  }

  async imageExists(ref: string): Promise<boolean> {
    try {
      await this.#call(`GET /images/${ref}/json`, () => this.#docker.getImage(ref).inspect());
      return true;
    } catch (error) {
      if (error instanceof DockerRefusedError && error.status === 404) return false;
      throw error;
    }
  }

  /**
   * Builds `tag` from a folder with the classic builder (POST /build; the gateway lets a user build
   * only into their own namespace and checks the size afterwards). Each line of the build's output
   * goes to `onOutput` as it comes; an error in the stream (a failed RUN, an image over the size
   * limit) rejects with its message.
   */
  async build(contextDir: string, tag: string, onOutput: (text: string) => void): Promise<void> {
    const stream = await this.#call('POST /build', () =>
      this.#docker.buildImage(
        { context: contextDir, src: readdirSync(contextDir) },
        { t: tag, rm: true, forcerm: true },
      ),
    );
    await new Promise<void>((resolve, reject) => {
      this.#docker.modem.followProgress(
        stream,
        (error: Error | null, output: Array<{ error?: string }>) => {
          const failed = output?.find((line) => line.error);
          if (error) reject(new DockerHostError(this.connection.host, `the build failed: ${error.message}`));
          else if (failed)
            reject(
              new DockerRefusedError(this.connection.host, 'POST /build', 400, { message: failed.error }),
            );
          else resolve();
        },
        (line: { stream?: string; status?: string }) => {
          const text = line.stream ?? (line.status ? `${line.status}\n` : '');
          if (text) onOutput(text);
        },
      );
    });
  }

  /** The images whose names start with `prefix` (a user's namespace), one row per tag. */
  async images(prefix: string): Promise<UserImage[]> {
    const rows = await this.#call('GET /images/json', () => this.#docker.listImages());
    return rows.flatMap((row) =>
      (row.RepoTags ?? [])
        .filter((tag) => tag.startsWith(prefix))
        .map((tag) => ({
          image: tag,
          id: row.Id,
          sizeBytes: row.Size,
          createdAt: new Date(row.Created * 1000).toISOString(),
        })),
    );
  }

  /** Removes an image by name (untags it; the last tag removes the image). */
  async removeImage(ref: string): Promise<void> {
    await this.#call(`DELETE /images/${ref}`, () => this.#docker.getImage(ref).remove());
  }

  /** Runs a call; an HTTP error becomes DockerRefusedError (with the gateway's message), a dead socket DockerUnreachableError. */
  async #call<T>(call: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (isConnectionError(error)) throw new DockerUnreachableError(this.connection.host, error);
      const status = statusCodeOf(error);
      if (status !== undefined) {
        throw new DockerRefusedError(this.connection.host, call, status, (error as { json?: unknown }).json);
      }
      throw error;
    }
  }
}

/**
 * Runs the docker CLI on the user's socket with the terminal handed over (attach, exec -it, logs -f):
 * resolves with its exit code. ENOENT: the docker CLI is not installed.
 */
export function runDockerCli(
  socketPath: string,
  args: readonly string[],
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, {
      stdio: 'inherit',
      env: { ...env, DOCKER_HOST: `unix://${socketPath}`, DOCKER_CLI_HINTS: 'false' },
    });
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new DockerHostError(
          `unix://${socketPath}`,
          error.code === 'ENOENT'
            ? 'the docker CLI is not installed (ds01 runs it for attach, exec and logs)'
            : `could not run docker: ${error.message}`,
          { cause: error },
        ),
      ),
    );
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
