import { Ds01Error } from '@ds01/errors';
/** Base of every error about talking to the Docker daemon. */
export class DockerHostError extends Ds01Error {
  override name = 'DockerHostError';
  /** Where the daemon was looked for: "unix:///var/run/docker.sock". */
  readonly dockerHost: string;
  constructor(dockerHost: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.dockerHost = dockerHost;
  }
}

/** The daemon cannot be reached (socket missing, refused, daemon restarting). Worth retrying. */
export class DockerUnreachableError extends DockerHostError {
  override name = 'DockerUnreachableError';
  constructor(dockerHost: string, cause: unknown) {
    super(
      dockerHost,
      `cannot reach the Docker daemon at ${dockerHost}: ${(cause as Error)?.message ?? String(cause)}. ` +
        'Check that dockerd runs and that DOCKER_HOST points at its socket.',
      { cause },
    );
  }
}

/** The daemon answered something DS01 cannot read (a field missing or of the wrong type). */
export class DockerAnswerError extends DockerHostError {
  override name = 'DockerAnswerError';
  /** The API call: "GET /containers/<id>/json". */
  readonly call: string;
  /** The first field that did not fit, as a path: "State.StartedAt". */
  readonly field: string;
  constructor(dockerHost: string, call: string, field: string, problem: string) {
    super(
      dockerHost,
      `${call} on ${dockerHost}: field '${field}' ${problem}. Is this a Docker Engine API DS01 supports (1.41+)?`,
    );
    this.call = call;
    this.field = field;
  }
}

/** Connection-level failures (as opposed to an HTTP answer such as 404). */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  return (
    code === 'ECONNREFUSED' ||
    code === 'ENOENT' ||
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'ETIMEDOUT' ||
    code === 'EAI_AGAIN' ||
    (error instanceof Error && /socket hang up|connect E|premature close|aborted/i.test(error.message))
  );
}

export function statusCodeOf(error: unknown): number | undefined {
  return (error as { statusCode?: number })?.statusCode;
}
