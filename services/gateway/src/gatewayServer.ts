import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Caller } from './access/caller.ts';
import { answerDs01Api, isDs01ApiPath } from './api/ds01Api.ts';
import { decideRequest, type IncomingCall } from './decideRequest.ts';
import type { Decision, Forward, Refusal } from './decision.ts';
import { type GatewayContext, recordAdminCall, recordDenial } from './gatewayContext.ts';
import { BadRequestError, encodeTarget, parseRequestTarget } from './request/requestTarget.ts';
import { matchRoute } from './request/routes.ts';
import type { GatewayServer } from './sockets/gatewaySockets.ts';
import { readAll, responseHeaders } from './upstream/dockerUpstream.ts';
import { pipeHijacked, readUpgradeBody, writeRawResponse } from './upstream/hijack.ts';

/**
 * The HTTP server behind one socket: every request is decided for the socket's caller, then
 * answered, refused or forwarded. Upgrade requests (attach, exec start) are decided the same way
 * and then piped. Any failure of the gateway itself answers 502 and is logged; it never reaches
 * dockerd half-decided.
 */
export function createGatewayServer(context: GatewayContext, caller: Caller): GatewayServer {
  const server = http.createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 60_000 });
  const hijacked = new Set<Duplex>();
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    void handle(context, caller, request, response);
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    hijacked.add(socket);
    socket.once('close', () => hijacked.delete(socket));
    void handleUpgrade(context, caller, request, socket, head);
  });
  // A client that sends something Node cannot parse as HTTP gets 400 and its connection closed.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) return socket.destroy();
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    writeRawResponse(socket, status, 'Bad Request', { message: `malformed HTTP request: ${error.message}` });
  });
  return {
    server,
    destroyConnections() {
      server.closeAllConnections();
      for (const socket of hijacked) socket.destroy();
    },
  };
}

function incomingCall(request: IncomingMessage): IncomingCall {
  return {
    method: request.method ?? 'GET',
    url: request.url ?? '/',
    headers: request.headers,
    readBody: (limit) => readLimited(request, limit),
    bodyStream: () => request,
  };
}

async function handle(
  context: GatewayContext,
  caller: Caller,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const call = incomingCall(request);
  let decision: Decision;
  try {
    decision = await decide(context, caller, call);
  } catch (error) {
    decision = failure(context, error);
  }
  if (decision.kind === 'answer') return sendJson(response, decision.status, decision.json);
  if (decision.kind === 'refuse') {
    await noteRefusal(context, caller, call, decision);
    // The body was never read: the connection cannot be reused for another request.
    if (!request.complete) response.setHeader('connection', 'close');
    return sendJson(response, decision.status, {
      message: decision.message,
      ...(decision.details ? { rule: decision.rule, ...decision.details } : {}),
    });
  }
  await forward(context, decision, request, response, (refusal) =>
    noteRefusal(context, caller, call, refusal),
  );
}

async function decide(context: GatewayContext, caller: Caller, call: IncomingCall): Promise<Decision> {
  const path = call.url.split('?')[0] ?? '';
  if (isDs01ApiPath(path)) return answerDs01Api(context, caller, call);
  if (caller.kind === 'admin') return decideAdmin(context, caller, call);
  return decideRequest(context, caller, call);
}

/**
 * The admin socket: anything goes (read as dockerd reads it), and every change is recorded before
 * it is forwarded: a change that cannot be recorded is not made.
 */
async function decideAdmin(
  context: GatewayContext,
  caller: Caller,
  call: IncomingCall,
  upgradeBody?: Buffer,
): Promise<Decision> {
  const target = parseRequestTarget(call.url);
  const forwarded = encodeTarget(target.version, target.path.split('/').slice(1), target.query);
  const hasBody =
    Number(call.headers['content-length'] ?? 0) > 0 || call.headers['transfer-encoding'] !== undefined;
  if (call.method !== 'GET' && call.method !== 'HEAD') {
    await recordAdminCall(context, caller, {
      method: call.method,
      path: target.path,
      query: target.query.map(([k, v]) => [k, v]),
    });
  }
  return {
    kind: 'forward',
    method: call.method,
    target: forwarded,
    body: upgradeBody ?? (hasBody ? call.bodyStream() : undefined),
    response: { mode: 'pipe' },
  };
}

async function forward(
  context: GatewayContext,
  decision: Forward,
  request: IncomingMessage,
  response: ServerResponse,
  /** Records a refusal that replaced dockerd's answer (onJson's). */
  noteReplaced: (refusal: Refusal) => Promise<void>,
): Promise<void> {
  const abort = new AbortController();
  // The caller went away (Ctrl-C on `docker logs -f`): stop dockerd's stream too. Not a create: what
  // dockerd does with it must still be recorded, whether or not the caller waits for the answer.
  const callerGone = () => {
    if (decision.response.mode !== 'json') abort.abort();
  };
  response.once('close', callerGone);
  let status: number | null = null;
  // Run once: at the stream's end (its line goes to the caller), or, when the caller left before,
  // in `finally` — a build that ended is checked and recorded whether or not anyone still reads it.
  let epilogueRan = false;
  const epilogue =
    decision.epilogue &&
    ((answered: number): Promise<string | null> => {
      if (epilogueRan) return Promise.resolve(null);
      epilogueRan = true;
      return decision.epilogue!(answered).catch((error: unknown) => {
        context.logger.error({ err: error, target: decision.target }, 'gateway: after the stream');
        return null;
      });
    });
  try {
    const upstream = await context.upstream.request({
      method: decision.method,
      target: decision.target,
      headers: request.headers,
      body: decision.body,
      signal: abort.signal,
    });
    status = upstream.statusCode ?? 502;
    if (decision.response.mode === 'json') {
      const text = await readAll(upstream);
      let parsed: unknown = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // not JSON: passed on as it is
      }
      const replaced = await decision.response.onJson(status, parsed);
      if (replaced) {
        await noteReplaced(replaced);
        sendJson(response, replaced.status, { message: replaced.message });
        return;
      }
      response.writeHead(status, responseHeaders(upstream));
      response.end(text);
      return;
    }
    response.writeHead(status, responseHeaders(upstream));
    response.flushHeaders();
    if (decision.response.mode === 'lines') {
      await pipeLines(upstream, response, decision.response.keep);
      return;
    }
    await pumpCoalesced(upstream, response, epilogue && (() => epilogue(status ?? 502)));
  } catch (error) {
    if (abort.signal.aborted) return;
    context.logger.warn({ err: error, target: decision.target }, 'gateway: dockerd did not answer');
    if (!response.headersSent)
      sendJson(response, 502, {
        message: `DS01 gateway: Docker did not answer: ${(error as Error).message}`,
      });
    else response.destroy();
  } finally {
    // Aborting after the answer is complete would destroy a connection the agent already reuses.
    response.off('close', callerGone);
    if (epilogue && status !== null) void epilogue(status);
    decision.onDone?.(status);
  }
}

/**
 * Passes dockerd's answer on as it comes, but everything that arrived together in one write: dockerd
 * flushes each log line as its own HTTP chunk, and `pipe()` would re-send each as its own chunk too
 * (a 100 MB log is a million of them). A stream (logs -f) still gets each line as soon as it came.
 */
function pumpCoalesced(
  upstream: IncomingMessage,
  response: ServerResponse,
  epilogue?: () => Promise<string | null>,
): Promise<void> {
  return new Promise((resolve) => {
    let waiting = false;
    const flush = () => {
      if (waiting) return;
      for (
        let chunk = upstream.read() as Buffer | null;
        chunk !== null;
        chunk = upstream.read() as Buffer | null
      ) {
        if (!response.write(chunk)) {
          waiting = true;
          response.once('drain', () => {
            waiting = false;
            flush();
          });
          return;
        }
      }
    };
    upstream.on('readable', flush);
    upstream.once('end', () => {
      if (!epilogue) {
        response.end();
        resolve();
        return;
      }
      void epilogue().then((last) => {
        response.end(last ?? undefined);
        resolve();
      });
    });
    upstream.once('error', () => {
      response.destroy();
      resolve();
    });
    response.once('close', () => {
      upstream.destroy();
      resolve();
    });
  });
}

/** Passes a stream of JSON documents (one a line) on, keeping those `keep` accepts. */
async function pipeLines(
  upstream: IncomingMessage,
  response: ServerResponse,
  keep: (line: unknown) => boolean,
): Promise<void> {
  let buffered = '';
  try {
    for await (const chunk of upstream) {
      buffered += (chunk as Buffer).toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          continue; // what cannot be read cannot be shown to be the caller's
        }
        if (keep(parsed)) response.write(`${line}\n`);
      }
    }
  } catch {
    // dockerd's stream ended abruptly: end the caller's too
  }
  response.end();
}

async function handleUpgrade(
  context: GatewayContext,
  caller: Caller,
  request: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<void> {
  socket.on('error', () => socket.destroy());
  const length = Number(request.headers['content-length'] ?? 0);
  let body: Buffer = Buffer.alloc(0);
  let rest: Buffer = head;
  const call: IncomingCall = {
    method: request.method ?? 'POST',
    url: request.url ?? '/',
    headers: request.headers,
    async readBody(limit) {
      ({ body, rest } = await readUpgradeBody(socket, head, length, limit));
      return body;
    },
    bodyStream: () => {
      throw new BadRequestError('an upgrade request cannot stream a body');
    },
  };
  let decision: Decision;
  try {
    if (request.headers['transfer-encoding'] !== undefined) {
      throw new BadRequestError('an upgrade request must give its body with Content-Length');
    }
    const path = parseRequestTarget(call.url).path;
    if (caller.kind === 'user' && !matchRoute(call.method, path)?.route.hijack) {
      throw new BadRequestError(`${call.method} ${path} cannot be upgraded`);
    }
    if (caller.kind === 'admin') {
      decision = await decideAdmin(context, caller, call, await call.readBody(context.maxBodyBytes));
    } else {
      decision = await decideRequest(context, caller, call);
    }
  } catch (error) {
    decision = failure(context, error);
  }
  if (decision.kind === 'answer') return writeRawResponse(socket, decision.status, 'OK', decision.json);
  if (decision.kind === 'refuse') {
    await noteRefusal(context, caller, call, decision);
    return writeRawResponse(socket, decision.status, reasonOf(decision.status), {
      message: decision.message,
    });
  }
  // The decision read the body it forwards (exec start's JSON); what followed it is the stream.
  const forwardedBody = Buffer.isBuffer(decision.body) ? decision.body : body;
  pipeHijacked({
    client: socket,
    socketPath: context.upstream.socketPath,
    method: decision.method,
    target: decision.target,
    contentType: forwardedBody.length > 0 ? 'application/json' : undefined,
    body: forwardedBody,
    rest,
    onClose: () => decision.onDone?.(101),
  });
}

/** A failure to decide: a request that cannot be read (400/413) or the gateway's own trouble (502). */
function failure(context: GatewayContext, error: unknown): Refusal {
  if (error instanceof BadRequestError) {
    return {
      kind: 'refuse',
      status: error.status,
      rule: 'bad-request',
      message: error.message,
      target: null,
    };
  }
  context.logger.error({ err: error }, 'gateway: could not decide a request');
  return {
    kind: 'refuse',
    status: 502,
    rule: 'gateway-error',
    message: `DS01 gateway could not decide this request: ${(error as Error).message}`,
    target: null,
    record: false,
  };
}

async function noteRefusal(
  context: GatewayContext,
  caller: Caller,
  call: IncomingCall,
  refusal: Refusal,
): Promise<void> {
  if (refusal.record === false) return;
  const path = call.url.split('?')[0] ?? call.url;
  let endpoint = `${call.method} ${path.slice(0, 300)}`;
  try {
    const target = parseRequestTarget(call.url);
    const match = matchRoute(call.method, target.path);
    if (match) endpoint = `${match.route.method} ${match.route.pattern}`;
  } catch {
    // unreadable target: the raw path names it
  }
  await recordDenial(context, caller, {
    endpoint,
    target: refusal.target,
    rule: refusal.rule,
    message: refusal.message,
    status: refusal.status,
  });
}

function sendJson(response: ServerResponse, status: number, json: unknown): void {
  const body = `${JSON.stringify(json)}\n`;
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

function reasonOf(status: number): string {
  return http.STATUS_CODES[status] ?? 'Error';
}

function readLimited(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > limit) return reject(new BadRequestError(`request body larger than ${limit} bytes`, 413));
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.pause();
        reject(new BadRequestError(`request body larger than ${limit} bytes`, 413));
        return;
      }
      chunks.push(chunk);
    });
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', (error) =>
      reject(new BadRequestError(`request body could not be read: ${error.message}`)),
    );
  });
}
