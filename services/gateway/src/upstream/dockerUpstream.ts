import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';

/** Request headers passed on to dockerd; every other one (Host, Connection, hop-by-hop...) is dropped. */
const FORWARDED_REQUEST_HEADERS = [
  'content-type',
  'accept',
  'user-agent',
  'x-registry-auth',
  'x-registry-config',
];

/** Response headers not copied back: Node sets its own framing for the caller's connection. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

export interface UpstreamRequest {
  method: string;
  /** Path and query as dockerd is to read them (already re-encoded by the gateway). */
  target: string;
  headers?: IncomingHttpHeaders;
  /** A body read and rewritten by the gateway, or a stream passed on as it comes (a tar). */
  body?: Buffer | Readable;
  signal?: AbortSignal;
}

/** dockerd's answer to a request the gateway makes for itself (an inspect to resolve a name). */
export interface UpstreamJson {
  status: number;
  body: unknown;
}

/** Bounds the gateway's own lookups; streams the caller asked for have none. */
const LOOKUP_TIMEOUT_MS = 10_000;

/**
 * The real Docker daemon, over its unix socket with node:http. Connections are kept alive and
 * reused, so a forwarded call costs no new connection.
 */
export class DockerUpstream {
  readonly socketPath: string;
  readonly #agent: http.Agent;

  constructor(socketPath: string) {
    this.socketPath = socketPath;
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  }

  /** Sends one request; resolves with dockerd's response head, its body still to be read. */
  request(options: UpstreamRequest): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | string[]> = { host: 'docker' };
      for (const name of FORWARDED_REQUEST_HEADERS) {
        const value = options.headers?.[name];
        if (value !== undefined) headers[name] = value;
      }
      if (Buffer.isBuffer(options.body)) headers['content-length'] = String(options.body.length);
      else if (options.body === undefined) headers['content-length'] = '0';
      else headers['transfer-encoding'] = 'chunked';
      const request = http.request({
        socketPath: this.socketPath,
        agent: this.#agent,
        method: options.method,
        path: options.target,
        headers,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      request.once('response', resolve);
      request.once('error', reject);
      if (options.body === undefined || Buffer.isBuffer(options.body)) request.end(options.body);
      else {
        options.body.once('error', (error) => request.destroy(error));
        options.body.pipe(request);
      }
    });
  }

  /** A request of the gateway's own (resolve a container, an exec, a volume): the whole JSON answer. */
  async json(
    method: string,
    target: string,
    body?: unknown,
    timeoutMs = LOOKUP_TIMEOUT_MS,
  ): Promise<UpstreamJson> {
    const response = await this.request({
      method,
      target,
      signal: AbortSignal.timeout(timeoutMs),
      ...(body === undefined
        ? {}
        : {
            body: Buffer.from(JSON.stringify(body)),
            headers: { 'content-type': 'application/json' },
          }),
    });
    const text = await readAll(response);
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // dockerd answers some errors in plain text: keep the text
    }
    return { status: response.statusCode ?? 502, body: parsed };
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** The response headers to copy back to the caller. */
export function responseHeaders(response: IncomingMessage): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  return headers;
}

export async function readAll(stream: Readable, limit = 64 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error(`dockerd's answer is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** dockerd's error message from its JSON answer `{"message": ...}`. */
export function dockerMessage(body: unknown): string {
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') {
    return (body as { message: string }).message;
  }
  return typeof body === 'string' ? body.trim() : JSON.stringify(body);
}
