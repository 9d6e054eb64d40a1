import { existsSync } from 'node:fs';

/** The image the contract suite tries when no server is given (EventStoreDB 24.10 LTS, insecure). */
export const EVENTSTOREDB_IMAGE = 'eventstore/eventstore:24.10';
const START_TIMEOUT_MS = 20_000;
const TEST_DOCKER_SOCKET = '/run/ds01-test/docker.sock';

export type EventStoreDbServer =
  | { url: string; source: 'DS01_EVENTSTORE_URL' | 'testcontainers'; stop(): Promise<void> }
  | { url: undefined; reason: string };

/**
 * An EventStoreDB server to run the contract suite against: DS01_EVENTSTORE_URL when set, else a
 * container started by testcontainers (on the test dockerd when there is one). No image registry is
 * reachable here, so the start usually fails; the reason comes back so the skip can say it.
 */
export async function findEventStoreDb(env: NodeJS.ProcessEnv = process.env): Promise<EventStoreDbServer> {
  const given = env.DS01_EVENTSTORE_URL;
  if (given) return { url: given, source: 'DS01_EVENTSTORE_URL', stop: async () => {} };
  if (!env.DOCKER_HOST && existsSync(TEST_DOCKER_SOCKET))
    process.env.DOCKER_HOST = `unix://${TEST_DOCKER_SOCKET}`;
  // The reaper needs an image of its own from a registry; the container is stopped in afterAll.
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  // The test dockerd runs without a bridge network, where testcontainers would look for the host.
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';
  let timer: NodeJS.Timeout | undefined;
  try {
    const { GenericContainer, Wait } = await import('testcontainers');
    const starting = new GenericContainer(EVENTSTOREDB_IMAGE)
      .withEnvironment({
        EVENTSTORE_INSECURE: 'true',
        EVENTSTORE_MEM_DB: 'true',
        EVENTSTORE_RUN_PROJECTIONS: 'None',
      })
      .withExposedPorts(2113)
      .withWaitStrategy(Wait.forHttp('/health/live', 2113).forStatusCode(204))
      .withStartupTimeout(START_TIMEOUT_MS)
      .start();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`did not start within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
    });
    starting.catch(() => {});
    const container = await Promise.race([starting, timeout]);
    return {
      url: `kurrentdb://${container.getHost()}:${container.getMappedPort(2113)}?tls=false`,
      source: 'testcontainers',
      stop: async () => {
        await container.stop();
      },
    };
  } catch (error) {
    return { url: undefined, reason: firstLine((error as Error).message) };
  } finally {
    clearTimeout(timer);
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 200);
}
