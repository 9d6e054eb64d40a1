import http from 'node:http';
import type { z } from 'zod';
import { CliError } from '../errors.ts';

/** How long one call to the DS01 API may take (the gateway answers from its read models). */
const API_TIMEOUT_MS = 10_000;

/**
 * The DS01 API on the caller's gateway socket (`/ds01/v1/...`): how an ordinary user's `ds01` reads
 * their own containers and GPUs without access to the store. The socket is their own, so what it
 * answers is about them; the CLI never names a user to it.
 */
export class Ds01ApiClient {
  readonly socketPath: string;

  constructor(socketPath: string) {
    this.socketPath = socketPath;
  }

  /**
   * The socket to use, if any: $DS01_SOCKET, else (for anyone but root, who reads the store) a unix
   * $DOCKER_HOST — the gateway socket infra/profile.d points users at.
   */
  static fromEnvironment(
    env: Record<string, string | undefined>,
    uid = process.getuid?.() ?? 0,
  ): Ds01ApiClient | null {
    const explicit = env['DS01_SOCKET'];
    if (explicit) return new Ds01ApiClient(explicit.replace(/^unix:\/\//, ''));
    const dockerHost = env['DOCKER_HOST'];
    if (uid !== 0 && dockerHost?.startsWith('unix://'))
      return new Ds01ApiClient(dockerHost.slice('unix://'.length));
    return null;
  }

  /**
   * The socket of a user's own workflow (`ds01 container`, `ds01 image`): $DS01_SOCKET, a unix
   * $DOCKER_HOST, else /run/ds01/users/<login>/docker.sock. Root has none: an admin acts as the user.
   */
  static forWorkflow(
    env: Record<string, string | undefined>,
    login: string,
    uid = process.getuid?.() ?? 0,
  ): Ds01ApiClient {
    const found = Ds01ApiClient.fromEnvironment(env, uid);
    if (found) return found;
    if (uid === 0) {
      throw new CliError('root has no DS01 socket of its own: containers and images belong to users', {
        hint: 'run it as the user (sudo -u alice ds01 container deploy ...), or set DS01_SOCKET to their socket',
      });
    }
    return new Ds01ApiClient(`/run/ds01/users/${login}/docker.sock`);
  }

  async get<Schema extends z.ZodType>(schema: Schema, path: string): Promise<z.output<Schema>> {
    return this.#call(schema, 'GET', path);
  }

  /** A write of the DS01 API (decided by ds01d for the socket's user), e.g. retire. */
  async post<Schema extends z.ZodType>(
    schema: Schema,
    path: string,
    timeoutMs = API_TIMEOUT_MS,
  ): Promise<z.output<Schema>> {
    return this.#call(schema, 'POST', path, timeoutMs);
  }

  async #call<Schema extends z.ZodType>(
    schema: Schema,
    method: string,
    path: string,
    timeoutMs = API_TIMEOUT_MS,
  ): Promise<z.output<Schema>> {
    const { status, body } = await this.#request(method, path, timeoutMs);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new CliError(`${this.socketPath} is not a DS01 gateway (its answer to ${path} is not JSON)`, {
        hint: 'point DS01_SOCKET (or DOCKER_HOST) at your socket: /run/ds01/users/$USER/docker.sock',
      });
    }
    if (status !== 200) {
      const { message, hint } = parsed as { message?: unknown; hint?: unknown };
      throw new CliError(
        status === 403 || status === 404
          ? typeof message === 'string'
            ? message
            : body
          : `the DS01 gateway answered ${status}: ${typeof message === 'string' ? message : body}`,
        {
          // The gateway's own hint where it gives one (a refusal says what to do instead).
          hint:
            typeof hint === 'string'
              ? hint
              : status === 404
                ? 'is DOCKER_HOST your DS01 socket? (/run/ds01/users/$USER/docker.sock)'
                : undefined,
        },
      );
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      throw new CliError(
        `the DS01 gateway's answer to ${path} is not what this ds01 reads: ${result.error.issues[0]?.message}`,
        {
          hint: 'ds01 and ds01d are of different versions: update them together',
        },
      );
    }
    return result.data;
  }

  #request(method: string, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          socketPath: this.socketPath,
          method,
          path,
          headers: { host: 'ds01' },
          signal: AbortSignal.timeout(timeoutMs),
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.once('end', () =>
            resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
          );
          response.once('error', reject);
        },
      );
      request.end();
      request.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new CliError(
            `cannot reach the DS01 gateway at ${this.socketPath}: ${error.code ?? error.message}`,
            {
              hint:
                error.code === 'EACCES'
                  ? 'that socket is not yours: use /run/ds01/users/$USER/docker.sock'
                  : 'is ds01d running? (an admin: systemctl status ds01d)',
              cause: error,
            },
          ),
        ),
      );
    });
  }
}
