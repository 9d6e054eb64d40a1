import { randomBytes } from 'node:crypto';
import Dockerode from 'dockerode';
import { describe, it } from 'vitest';

/**
 * The test dockerd: one dedicated daemon on its own socket that every suite shares (scripts/test.sh starts
 * it; see scripts/lib/services.sh). Suites never touch the host's /var/run/docker.sock.
 *
 * Usage in a test file:
 *
 *   describeWithDocker('the docker watcher', (td) => {
 *     afterAll(() => cleanupTestRun(td));
 *     it('sees a container', async () => { const c = await createTestContainer(td, { start: true }); ... });
 *   });
 *
 * When the test dockerd cannot be reached: with CI set (or DS01_TEST_REQUIRE_DOCKER=1, which scripts/test.sh
 * sets) the suite FAILS with the reason; otherwise it is reported as skipped, the reason in its name.
 */

export const DEFAULT_TEST_DOCKER_HOST = 'unix:///run/ds01-test/docker.sock';
export const DEFAULT_TEST_IMAGE = 'ds01-test/busybox:latest';

/** Every resource a test makes carries this label; its value identifies one test file's run. */
export const TEST_RUN_LABEL = 'ds01.test.run';

export interface TestDocker {
  docker: Dockerode;
  socketPath: string;
  /** `unix://<socketPath>`, what DOCKER_HOST should be for child processes (docker CLI, compose...). */
  host: string;
  /** The local busybox image every suite runs (no registry is reachable). */
  image: string;
  /** This test file's run id: the value of the `ds01.test.run` label on what it makes. */
  runId: string;
}

const HOW_TO_RUN =
  'Run the docker suites with `sudo scripts/test.sh` (it starts the test dockerd on ' +
  '/run/ds01-test/docker.sock and builds ds01-test/busybox:latest), or point DS01_TEST_DOCKER_HOST at a ' +
  'running test dockerd that has DS01_TEST_IMAGE.';

export class TestDockerUnavailableError extends Error {
  override readonly name = 'TestDockerUnavailableError';
  readonly host: string;
  readonly reason: string;
  constructor(host: string, reason: string) {
    super(`test dockerd at ${host} is not usable: ${reason}. ${HOW_TO_RUN}`);
    this.host = host;
    this.reason = reason;
  }
}

/** Docker requires the test dockerd: in CI, and under scripts/test.sh. */
export function dockerRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  const truthy = (v: string | undefined) => v !== undefined && v !== '' && v !== '0' && v !== 'false';
  return truthy(env['CI']) || truthy(env['DS01_TEST_REQUIRE_DOCKER']);
}

/** `unix:///path` → `/path`. Only unix sockets are supported: the test dockerd has no TCP listener. */
export function socketPathOf(host: string): string {
  if (!host.startsWith('unix://')) {
    throw new TestDockerUnavailableError(host, 'DS01_TEST_DOCKER_HOST must be a unix:// socket address');
  }
  return host.slice('unix://'.length);
}

let cached: Promise<TestDocker> | undefined;

/**
 * Connects to the test dockerd and checks that it answers and has the test image. Throws
 * TestDockerUnavailableError naming what is wrong. Resolved once per test file.
 */
export function testDocker(): Promise<TestDocker> {
  cached ??= connect();
  return cached;
}

async function connect(): Promise<TestDocker> {
  const host = process.env['DS01_TEST_DOCKER_HOST'] || DEFAULT_TEST_DOCKER_HOST;
  const image = process.env['DS01_TEST_IMAGE'] || DEFAULT_TEST_IMAGE;
  const socketPath = socketPathOf(host);
  const docker = new Dockerode({ socketPath, timeout: 10_000 });
  try {
    await docker.ping();
  } catch (error) {
    throw new TestDockerUnavailableError(host, `no answer (${(error as Error).message})`);
  }
  try {
    await docker.getImage(image).inspect();
  } catch {
    throw new TestDockerUnavailableError(host, `image ${image} is missing`);
  }
  return { docker, socketPath, host, image, runId: newRunId() };
}

function newRunId(): string {
  return `${process.pid.toString(36)}${randomBytes(3).toString('hex')}`;
}

/** Probed at import so that suites can be declared (or skipped) synchronously. */
const probe: { ok: true; td: TestDocker } | { ok: false; error: TestDockerUnavailableError } =
  await testDocker().then(
    (td) => ({ ok: true as const, td }),
    (error: unknown) => {
      if (error instanceof TestDockerUnavailableError) return { ok: false as const, error };
      throw error;
    },
  );

/**
 * Declares a suite that needs the test dockerd. When it is unreachable the suite fails (CI, scripts/test.sh)
 * or is skipped with the reason in its name (a developer's plain `npx vitest run`).
 */
export function describeWithDocker(name: string, body: (td: TestDocker) => void): void {
  if (probe.ok) {
    describe(name, () => body(probe.td));
    return;
  }
  const { error } = probe;
  if (dockerRequired()) {
    describe(name, () => {
      it('reaches the test dockerd', () => {
        throw error;
      });
    });
    return;
  }
  // The reporter folds skipped files into one line: say why on stderr too, so a skip is never silent.
  console.warn(`skipping "${name}": ${error.message}`);
  describe.skip(`${name} [skipped: ${error.reason} — ${HOW_TO_RUN}]`, () => {
    it('needs the test dockerd', () => {});
  });
}

let counter = 0;

/** A name unique to this test run: `ds01t-<run>-<n>[-<hint>]`. */
export function uniqueName(td: TestDocker, hint?: string): string {
  counter += 1;
  return `ds01t-${td.runId}-${counter}${hint ? `-${hint}` : ''}`;
}

export interface TestContainerSpec {
  name?: string;
  labels?: Record<string, string>;
  /** Defaults to a process that lives until it is stopped. */
  cmd?: string[];
  env?: string[];
  user?: string;
  hostConfig?: Dockerode.ContainerCreateOptions['HostConfig'];
  /** Start it after creating it. */
  start?: boolean;
}

/** Creates a uniquely named busybox container labelled with this run's id (so cleanupTestRun finds it). */
export async function createTestContainer(
  td: TestDocker,
  spec: TestContainerSpec = {},
): Promise<Dockerode.Container> {
  const container = await td.docker.createContainer({
    name: spec.name ?? uniqueName(td),
    Image: td.image,
    // `sleep` ignores SIGTERM as PID 1; trapping it keeps `docker stop` fast.
    Cmd: spec.cmd ?? ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'],
    Env: spec.env,
    User: spec.user,
    Labels: { ...spec.labels, [TEST_RUN_LABEL]: td.runId },
    HostConfig: spec.hostConfig,
  });
  if (spec.start) await container.start();
  return container;
}

/** The docker API filter selecting what this run made. */
export function runFilter(td: TestDocker): { label: string[] } {
  return { label: [`${TEST_RUN_LABEL}=${td.runId}`] };
}

/**
 * Removes every container, volume and network this run made (by its `ds01.test.run` label), including
 * those made by the docker CLI, compose or devcontainer when the test passed the label on.
 */
export async function cleanupTestRun(td: TestDocker): Promise<void> {
  const filters = JSON.stringify(runFilter(td));
  const containers = await td.docker.listContainers({ all: true, filters });
  await Promise.all(
    containers.map((c) => td.docker.getContainer(c.Id).remove({ force: true, v: true }).catch(ignoreGone)),
  );
  const networks = await td.docker.listNetworks({ filters });
  await Promise.all(networks.map((n) => td.docker.getNetwork(n.Id).remove().catch(ignoreGone)));
  const volumes = await td.docker.listVolumes({ filters });
  await Promise.all(
    (volumes.Volumes ?? []).map((v) => td.docker.getVolume(v.Name).remove().catch(ignoreGone)),
  );
}

/** A resource already removed (by the test itself, or by a parallel removal) is what cleanup wanted. */
function ignoreGone(error: unknown): void {
  const status = (error as { statusCode?: number }).statusCode;
  if (status === 404 || status === 409) return;
  throw error;
}
