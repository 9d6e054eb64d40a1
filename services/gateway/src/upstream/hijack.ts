import net from 'node:net';
import type { Duplex } from 'node:stream';
import { BadRequestError } from '../request/requestTarget.ts';

/**
 * Hijacked connections: `docker attach`, `docker exec -it`, `docker run -it`. The client sends
 * `Connection: Upgrade` / `Upgrade: tcp`; dockerd answers `101 UPGRADED` and from then on the
 * connection carries the container's stdin one way and its output the other. The gateway writes the
 * request it decided on to dockerd on a connection of its own and then pipes bytes both ways, the
 * 101 (or dockerd's error answer) included, until either side closes.
 */
export function pipeHijacked(options: {
  client: Duplex;
  socketPath: string;
  method: string;
  target: string;
  contentType: string | undefined;
  body: Buffer;
  /** Bytes the client sent after the request's body (stdin it did not wait to send). */
  rest: Buffer;
  /** Called once both directions have ended. */
  onClose?: () => void;
}): void {
  const { client } = options;
  const upstream = net.connect(options.socketPath);
  const head = [
    `${options.method} ${options.target} HTTP/1.1`,
    'Host: docker',
    'Connection: Upgrade',
    'Upgrade: tcp',
    ...(options.contentType ? [`Content-Type: ${options.contentType}`] : []),
    `Content-Length: ${options.body.length}`,
    '',
    '',
  ].join('\r\n');
  upstream.write(head);
  if (options.body.length > 0) upstream.write(options.body);
  if (options.rest.length > 0) upstream.write(options.rest);
  upstream.pipe(client);
  client.pipe(upstream);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    upstream.destroy();
    client.destroy();
    options.onClose?.();
  };
  // A half-close (stdin ended) is passed on by pipe(); an error or a full close of either ends both.
  upstream.once('error', close);
  client.once('error', close);
  upstream.once('close', close);
  client.once('close', close);
}

/**
 * Reads the body of an upgrade request from what Node had read past the head (`head`) and the
 * socket: `length` bytes (Content-Length); the rest is returned for the hijacked stream.
 */
export function readUpgradeBody(
  socket: Duplex,
  head: Buffer,
  length: number,
  limit: number,
): Promise<{ body: Buffer; rest: Buffer }> {
  if (length > limit) return Promise.reject(new BadRequestError(`body larger than ${limit} bytes`, 413));
  if (head.length >= length) {
    return Promise.resolve({ body: head.subarray(0, length), rest: head.subarray(length) });
  }
  return new Promise((resolve, reject) => {
    let buffered = head;
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < length) return;
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      resolve({ body: buffered.subarray(0, length), rest: buffered.subarray(length) });
    };
    const onEnd = () => reject(new BadRequestError('connection closed before the body was complete'));
    socket.on('data', onData);
    socket.once('end', onEnd);
  });
}

/** A complete HTTP/1.1 answer written on a raw socket (an upgrade request refused before it was forwarded). */
export function writeRawResponse(socket: Duplex, status: number, reason: string, json: unknown): void {
  const body = Buffer.from(`${JSON.stringify(json)}\n`);
  socket.end(
    Buffer.concat([
      Buffer.from(
        `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      ),
      body,
    ]),
  );
}
