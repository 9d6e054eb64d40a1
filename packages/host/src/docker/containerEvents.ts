import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { DockerContainerEvent } from '@ds01/domain';
import type { DockerConnection } from './dockerClient.ts';
import { DockerAnswerError, DockerUnreachableError, isConnectionError } from './errors.ts';

export interface ContainerEventStreamOptions {
  /** Replay from here (timeNano, inclusive), as far back as the daemon's ring of recent events reaches. */
  sinceNano?: string;
  /** End the stream at this time (timeNano); without it the stream stays live until closed. */
  untilNano?: string;
  signal?: AbortSignal;
}

/** How long dockerd may take to answer GET /events (it answers before it has any event to send). */
const OPEN_TIMEOUT_MS = 15_000;

/** timeNano → Docker's `since` argument, "seconds.nanoseconds". */
export function sinceArgument(timeNano: string): string {
  const padded = timeNano.padStart(10, '0');
  return `${padded.slice(0, -9) || '0'}.${padded.slice(-9)}`;
}

/**
 * One Docker event line → the domain's view of it. `timeNano` is cut from the raw text: as a JSON number
 * it exceeds 2^53 and would lose its last digits, and it is part of the event's identity.
 */
export function parseContainerEventLine(
  connection: Pick<DockerConnection, 'host'>,
  line: string,
): DockerContainerEvent | undefined {
  const refuse = (field: string, problem: string) =>
    new DockerAnswerError(connection.host, 'GET /events', field, problem);
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw refuse('(line)', `is not JSON: ${line.slice(0, 120)}`);
  }
  if (!isObject(raw)) throw refuse('(line)', `is not a JSON object: ${line.slice(0, 120)}`);
  if (raw['Type'] !== 'container') return undefined;
  const timeNano = /"timeNano"\s*:\s*(\d+)/.exec(line)?.[1];
  const { Action: action, Actor: actor } = raw;
  if (typeof action !== 'string' || action === '' || !isObject(actor) || !timeNano) {
    throw refuse('Action/Actor.ID/timeNano', `missing in ${line.slice(0, 160)}`);
  }
  const id = actor['ID'];
  if (typeof id !== 'string' || id === '')
    throw refuse('Actor.ID', `is not a container id: ${line.slice(0, 160)}`);
  // Past year 275760 a time is not one: nanoseconds with more digits are garbled.
  if (BigInt(timeNano) / 1_000_000n > MAX_DATE_MS) throw refuse('timeNano', `is out of range: ${timeNano}`);
  const attributes = actor['Attributes'] ?? {};
  if (!isObject(attributes) || Object.values(attributes).some((value) => typeof value !== 'string')) {
    throw refuse('Actor.Attributes', `is not a map of strings: ${line.slice(0, 160)}`);
  }
  return { id, action, timeNano, attributes: attributes as Record<string, string> };
}

/** The largest time a JavaScript Date holds, in milliseconds since the epoch. */
const MAX_DATE_MS = 8_640_000_000_000_000n;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Subscribes to the daemon's container events and resolves once dockerd has registered the subscription
 * (it answers the request only then), so every event published from now on is in the returned stream:
 * the watcher opens it before it reads `docker ps -a`. The stream yields events in order and ends when
 * `untilNano` is reached or the signal aborts; if the daemon goes away mid-stream it throws
 * DockerUnreachableError (the caller reconnects).
 */
export async function openContainerEventStream(
  connection: DockerConnection,
  options: ContainerEventStreamOptions = {},
): Promise<AsyncGenerator<DockerContainerEvent>> {
  const stream = await openEvents(
    connection,
    {
      ...(options.sinceNano ? { since: sinceArgument(options.sinceNano) } : {}),
      ...(options.untilNano ? { until: sinceArgument(options.untilNano) } : {}),
      filters: { type: ['container'] },
    },
    options.signal,
  );
  if (!stream) return (async function* () {})();
  return readContainerEvents(connection, stream, options);
}

/** How many events dockerd keeps for replay, of every type (moby daemon/events: eventsLimit). */
export const DOCKER_EVENT_RING_SIZE = 256;

/** What the daemon still holds of its history: how many events (of every type) and the oldest one's time. */
export interface DockerEventRing {
  events: number;
  oldestNano: string | null;
}

/**
 * Reads the daemon's ring of recent events (every type: networks and images take places in it too)
 * up to `untilNano`. A full ring whose oldest event is newer than a moment means that what happened
 * between that moment and the oldest event can no longer be replayed.
 */
export async function readDockerEventRing(
  connection: DockerConnection,
  untilNano: string,
  signal?: AbortSignal,
): Promise<DockerEventRing> {
  // since=0 is "no replay" to dockerd: the first nanosecond after the epoch asks for all it has.
  const stream = await openEvents(
    connection,
    { since: sinceArgument('1'), until: sinceArgument(untilNano) },
    signal,
  );
  const ring: DockerEventRing = { events: 0, oldestNano: null };
  if (!stream) return ring;
  const decoder = new StringDecoder('utf8');
  let buffered = '';
  const count = (line: string) => {
    if (!line.trim()) return;
    ring.events += 1;
    ring.oldestNano ??= /"timeNano"\s*:\s*(\d+)/.exec(line)?.[1] ?? null;
  };
  try {
    for await (const chunk of stream) {
      buffered += decoder.write(chunk as Buffer);
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      lines.forEach(count);
    }
    count(buffered);
  } catch (error) {
    if (signal?.aborted) return ring;
    throw new DockerUnreachableError(connection.host, error);
  } finally {
    stream.destroy();
  }
  return ring;
}

/**
 * GET /events with a deadline for dockerd's answer (it sends the headers before any event): a daemon, or
 * a socket proxy, that does not answer is treated as unreachable rather than waited on forever.
 * Undefined when `signal` aborted before the answer.
 */
async function openEvents(
  connection: DockerConnection,
  query: { since?: string; until?: string; filters?: Record<string, string[]> },
  signal: AbortSignal | undefined,
): Promise<Readable | undefined> {
  const request = new AbortController();
  const abort = () => request.abort();
  signal?.addEventListener('abort', abort, { once: true });
  const deadline = setTimeout(abort, OPEN_TIMEOUT_MS);
  try {
    return (await connection.docker.getEvents({
      ...query,
      abortSignal: request.signal,
    } as unknown as Parameters<typeof connection.docker.getEvents>[0])) as unknown as Readable;
  } catch (error) {
    if (signal?.aborted) return undefined;
    if (request.signal.aborted) {
      throw new DockerUnreachableError(
        connection.host,
        new Error(`GET /events: no answer within ${OPEN_TIMEOUT_MS / 1000} s`),
      );
    }
    if (isConnectionError(error)) throw new DockerUnreachableError(connection.host, error);
    throw error;
  } finally {
    clearTimeout(deadline);
    signal?.removeEventListener('abort', abort);
  }
}

/** The daemon's container events, in order (openContainerEventStream, read to its end). */
export async function* streamContainerEvents(
  connection: DockerConnection,
  options: ContainerEventStreamOptions = {},
): AsyncGenerator<DockerContainerEvent> {
  yield* await openContainerEventStream(connection, options);
}

async function* readContainerEvents(
  connection: DockerConnection,
  stream: Readable,
  options: ContainerEventStreamOptions,
): AsyncGenerator<DockerContainerEvent> {
  const abort = () => stream.destroy();
  options.signal?.addEventListener('abort', abort, { once: true });
  let buffered = '';
  // A chunk may end inside a multi-byte character (a label in UTF-8): the decoder keeps its start.
  const decoder = new StringDecoder('utf8');
  try {
    for await (const chunk of stream) {
      buffered += decoder.write(chunk as Buffer);
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) {
          const event = parseContainerEventLine(connection, line);
          if (event) yield event;
        }
        newline = buffered.indexOf('\n');
      }
    }
  } catch (error) {
    if (options.signal?.aborted) return;
    throw new DockerUnreachableError(connection.host, error);
  } finally {
    options.signal?.removeEventListener('abort', abort);
    stream.destroy();
  }
  if (options.signal?.aborted || options.untilNano !== undefined) return;
  // A live stream only ends when the daemon closes it: it stopped or restarted.
  throw new DockerUnreachableError(connection.host, new Error('the event stream ended (daemon stopped?)'));
}
