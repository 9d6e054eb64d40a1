import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import {
  ImageBuilt,
  ImageRemoved,
  Label,
  pullNamespaceProblem,
  userImageNamespace,
  userImageRefProblem,
} from '@ds01/domain';
import type { Caller } from './access/caller.ts';
import { resolveOwnContainer } from './access/containerAccess.ts';
import { type Decision, type Forward, type OnJson, pipe, refuse } from './decision.ts';
import { type GatewayContext, recordImageEvent } from './gatewayContext.ts';
import { decideContainerCreate } from './handlers/containerCreate.ts';
import { decideNetwork, decideVolume } from './handlers/volumesAndNetworks.ts';
import {
  containerConfigShape,
  containerUpdateShape,
  execCreateShape,
  execStartShape,
  parseGoJson,
  type Shape,
} from './request/goJson.ts';
import { encodeTarget, firstValue, parseRequestTarget, type RequestTarget } from './request/requestTarget.ts';
import { matchRoute, type Route, type RouteMatch } from './request/routes.ts';

/** One request as the socket server hands it over: the head, and ways to get the body. */
export interface IncomingCall {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** The whole body, at most `limit` bytes (413 past it). */
  readBody(limit: number): Promise<Buffer>;
  /** The body as a stream, for tars passed on unread (build, archive upload). */
  bodyStream(): Readable;
}

/** What a handler gets: the caller, the parsed target, the matched route, and the call. */
export interface RouteCall {
  context: GatewayContext;
  caller: Caller;
  call: IncomingCall;
  target: RequestTarget;
  match: RouteMatch;
  /** `GET /containers/{name}/json` — names the endpoint in messages and AccessDenied events. */
  endpoint: string;
}

/**
 * Decides one request of a user: parse the target as dockerd will, match the allowlist, read and
 * check the body, check that everything it names is the caller's, and build the request to forward.
 * A request that is not allowed never reaches dockerd.
 */
export async function decideRequest(
  context: GatewayContext,
  caller: Caller,
  call: IncomingCall,
): Promise<Decision> {
  const target = parseRequestTarget(call.url);
  const match = matchRoute(call.method, target.path);
  if (!match) {
    return refuse(
      403,
      'not-allowed',
      `not allowed through the DS01 gateway: ${call.method} ${target.path}`,
      null,
    );
  }
  const endpoint = `${match.route.method} ${match.route.pattern}`;
  const routeCall: RouteCall = { context, caller, call, target, match, endpoint };
  const bodyRefusal = checkBodyKind(call, match.route);
  if (bodyRefusal) return bodyRefusal;
  switch (match.route.kind) {
    case 'open':
      return pipe(call.method, encodeTarget(target.version, segments(match, match.param), target.query));
    case 'container':
      return decideOnContainer(routeCall);
    case 'containerList':
      return withOwnerFilter(routeCall, 'pipe');
    case 'events':
      return withOwnerFilter(routeCall, 'lines');
    case 'containerCreate':
      return decideContainerCreate(routeCall);
    case 'execCreate':
      return decideExecCreate(routeCall);
    case 'exec':
      return decideOnExec(routeCall);
    case 'commit':
      return decideCommit(routeCall);
    case 'imagePull':
      if (firstValue(target.query, 'fromSrc') !== undefined) {
        return refuse(
          403,
          'image-import',
          'importing images (docker import) is for admins: images are shared',
        );
      }
      if (routeCall.caller.kind === 'user') {
        const fromImage = firstValue(target.query, 'fromImage') ?? '';
        const problem = pullNamespaceProblem(routeCall.caller.user, fromImage);
        if (problem) return refuse(403, 'image-namespace', problem, fromImage);
      }
      return pipe(call.method, encodeTarget(target.version, ['images', 'create'], target.query));
    case 'build':
      return await decideBuild(routeCall);
    case 'imageDelete':
      return decideImageDelete(routeCall);
    case 'volumeCreate':
    case 'volumeList':
    case 'volume':
      return decideVolume(routeCall);
    case 'networkCreate':
    case 'networkList':
    case 'network':
    case 'networkConnect':
      return decideNetwork(routeCall);
  }
}

/** dockerd's CheckForJSON, and no body where the endpoint takes none (API < 1.24 read one on start). */
function checkBodyKind(call: IncomingCall, route: Route): Decision | null {
  const length = Number(call.headers['content-length'] ?? 0);
  const hasBody = length > 0 || call.headers['transfer-encoding'] !== undefined;
  if (route.body === 'none' && hasBody) {
    return refuse(400, 'bad-request', `${route.method} ${route.pattern} takes no request body`);
  }
  if (route.body === 'json' && hasBody) {
    const type = call.headers['content-type'];
    if (type !== undefined && !/^application\/json\s*(;|$)/i.test(type)) {
      return refuse(400, 'bad-request', `Content-Type specified (${type}) must be 'application/json'`);
    }
  }
  return null;
}

/** The JSON body in its canonical form (goJson.ts); empty body: an empty object, as Go decodes it. */
export async function readJsonBody(routeCall: RouteCall, shape: Shape): Promise<Record<string, unknown>> {
  const raw = await routeCall.call.readBody(routeCall.context.maxBodyBytes);
  if (raw.length === 0) return {};
  const body = parseGoJson(raw.toString('utf8'), shape, routeCall.endpoint);
  return (body ?? {}) as Record<string, unknown>;
}

/** The route's path with its parameter (decoded) replaced by `param`, as segments for encodeTarget. */
export function segments(match: RouteMatch, param: string | null): string[] {
  const literal = (text: string) => text.split('/').filter((s) => s !== '');
  if (match.param === null) return literal(match.before);
  return [...literal(match.before), param ?? '', ...literal(match.after)];
}

export function jsonBody(body: unknown): Buffer {
  return Buffer.from(JSON.stringify(body));
}

async function decideOnContainer(routeCall: RouteCall): Promise<Decision> {
  const { context, caller, call, target, match, endpoint } = routeCall;
  const container = await resolveOwnContainer(context, caller, match.param ?? '', endpoint);
  if ('kind' in container) return container;
  const forwarded = encodeTarget(target.version, segments(match, container.id), target.query);
  if (match.route.pattern === '/containers/{name}/update') {
    const body = await readJsonBody(routeCall, containerUpdateShape);
    const limits = Object.entries(body).filter(([key, value]) => key !== 'RestartPolicy' && value !== null);
    if (limits.length > 0) {
      return refuse(
        403,
        'update-limits',
        `resource limits are set by DS01 when a container is created (${limits.map(([k]) => k).join(', ')}); ` +
          'only the restart policy can be changed',
        match.param,
      );
    }
    return pipe(call.method, forwarded, jsonBody(body));
  }
  if (match.route.body === 'stream') return pipe(call.method, forwarded, call.bodyStream());
  return pipe(call.method, forwarded);
}

/** List and events: `label=ds01.user=<caller>` added to the filters, so dockerd itself filters. */
async function withOwnerFilter(routeCall: RouteCall, mode: 'pipe' | 'lines'): Promise<Decision> {
  const { caller, call, target, match } = routeCall;
  const query = caller.kind === 'user' ? ownerFiltered(target.query, caller.user) : target.query;
  if (typeof query === 'string') return refuse(400, 'bad-request', query);
  const forwarded = encodeTarget(target.version, segments(match, null), query);
  if (mode === 'pipe' || caller.kind === 'admin') return pipe(call.method, forwarded);
  const user = caller.user;
  return {
    kind: 'forward',
    method: call.method,
    target: forwarded,
    body: undefined,
    // dockerd filtered already; the stream is checked again, event by event, before it reaches the caller.
    response: {
      mode: 'lines',
      keep: (event) =>
        (event as { Actor?: { Attributes?: Record<string, string> } }).Actor?.Attributes?.[Label.user] ===
        user,
    },
  };
}

/**
 * The query with the caller's owner label added to `filters` (dockerd reads the first `filters`;
 * the others are dropped). A string: why the filters cannot be read (dockerd would answer 400 too).
 */
export function ownerFiltered(query: RequestTarget['query'], user: string): RequestTarget['query'] | string {
  const raw = firstValue(query, 'filters');
  let filters: Record<string, Record<string, boolean>> = {};
  if (raw !== undefined && raw !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return `filters is not JSON: ${raw}`;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      return 'filters must be a JSON object';
    for (const [key, values] of Object.entries(parsed)) {
      // Both of dockerd's forms: {"label": ["a=b"]} and {"label": {"a=b": true}}.
      if (Array.isArray(values) && values.every((v) => typeof v === 'string')) {
        filters[key] = Object.fromEntries(values.map((v) => [v, true]));
      } else if (values && typeof values === 'object' && Object.values(values).every((v) => v === true)) {
        filters[key] = values as Record<string, boolean>;
      } else {
        return `filters.${key} must be a list of strings`;
      }
    }
  }
  filters = { ...filters, label: { ...(filters['label'] ?? {}), [`${Label.user}=${user}`]: true } };
  return [...query.filter(([k]) => k !== 'filters'), ['filters', JSON.stringify(filters)]];
}

async function decideExecCreate(routeCall: RouteCall): Promise<Decision> {
  const { context, caller, call, target, match, endpoint } = routeCall;
  const container = await resolveOwnContainer(context, caller, match.param ?? '', endpoint);
  if ('kind' in container) return container;
  const body = await readJsonBody(routeCall, execCreateShape);
  if (body['Privileged'] === true && caller.kind === 'user') {
    return refuse(
      403,
      'privileged',
      'privileged exec is not allowed on this server: drop --privileged',
      match.param,
    );
  }
  return {
    kind: 'forward',
    method: call.method,
    target: encodeTarget(target.version, segments(match, container.id), target.query),
    body: jsonBody(body),
    response: {
      mode: 'json',
      onJson: async (status, answer) => {
        const id = (answer as { Id?: unknown } | null)?.Id;
        if (status === 201 && typeof id === 'string') context.execs.record(id, container.id);
        return undefined;
      },
    },
  };
}

async function decideOnExec(routeCall: RouteCall): Promise<Decision> {
  const { context, caller, call, target, match, endpoint } = routeCall;
  const execId = match.param ?? '';
  let containerId = context.execs.containerOf(execId);
  if (containerId === undefined) {
    const answer = await context.upstream.json('GET', encodeTarget(null, ['exec', execId, 'json'], []));
    const found = (answer.body as { ContainerID?: unknown } | null)?.ContainerID;
    if (answer.status !== 200 || typeof found !== 'string') {
      return {
        ...refuse(
          answer.status === 200 ? 404 : answer.status,
          'not-found',
          `No such exec instance: ${execId}`,
          execId,
        ),
        record: false,
      };
    }
    containerId = found;
    context.execs.record(execId, found);
  }
  const container = await resolveOwnContainer(context, caller, containerId, endpoint);
  if ('kind' in container) return { ...container, target: execId };
  const forwarded = encodeTarget(target.version, segments(match, execId), target.query);
  if (match.route.body === 'json')
    return pipe(call.method, forwarded, jsonBody(await readJsonBody(routeCall, execStartShape)));
  return pipe(call.method, forwarded);
}

/** `POST /commit?container=X`: the container is named in the query (dockerd reads the first). */
async function decideCommit(routeCall: RouteCall): Promise<Decision> {
  const { context, caller, call, target, endpoint } = routeCall;
  const ref = firstValue(target.query, 'container') ?? '';
  const container = await resolveOwnContainer(context, caller, ref, endpoint);
  if ('kind' in container) return container;
  const query: RequestTarget['query'] = [
    ...target.query.filter(([k]) => k !== 'container'),
    ['container', container.id],
  ];
  const body = await readJsonBody(routeCall, containerConfigShape);
  return pipe(call.method, encodeTarget(target.version, ['commit'], query), jsonBody(body));
}

/**
 * Builds run containers DS01 does not see: no host network, no cgroup parent of the caller's choosing.
 * A user builds into their own namespace only (`-t ds01-<user>/<name>`: images are shared, and a tag
 * of another's name would shadow theirs), and at least one tag is needed, so the image can be checked
 * and recorded: once the build ends, each tag over images.max_size_gb is removed and the build's
 * stream ends with the error (ImageRemoved, over_size_limit); each other is recorded (ImageBuilt).
 */
async function decideBuild(routeCall: RouteCall): Promise<Decision> {
  const refusal = decideBuildRefusal(routeCall);
  if (refusal.kind !== 'refuse') return refusal;
  // The docker CLI streams the build context while it waits for the answer: a refusal sent before
  // the context is read breaks its pipe, and it shows "broken pipe" instead of the reason. A context
  // up to the drain limit is read and dropped first; a larger one gets the refusal as it is.
  await drain(routeCall.call.bodyStream(), BUILD_DRAIN_LIMIT_BYTES);
  return refusal;
}

/** How much of a refused build's context is read (and dropped) so the client sees the refusal. */
const BUILD_DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

function drain(stream: Readable, limit: number): Promise<void> {
  return new Promise((resolve) => {
    let read = 0;
    const done = () => {
      stream.off('data', onData);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      read += chunk.length;
      if (read > limit) {
        stream.pause();
        done();
      }
    };
    stream.on('data', onData);
    stream.once('end', done);
    stream.once('error', done);
    stream.once('close', done);
  });
}

function decideBuildRefusal(routeCall: RouteCall): Decision {
  const { caller, call, target } = routeCall;
  const network = firstValue(target.query, 'networkmode') ?? '';
  if (!['', 'default', 'bridge', 'none'].includes(network)) {
    return refuse(
      403,
      'build-network',
      `build network mode ${JSON.stringify(network)} is not allowed: use the default`,
    );
  }
  for (const key of ['cgroupparent', 'isolation']) {
    if (firstValue(target.query, key))
      return refuse(403, `build-${key}`, `build option ${key} is DS01's to set: remove it`);
  }
  const forward = pipe(call.method, encodeTarget(target.version, ['build'], target.query), call.bodyStream());
  if (caller.kind !== 'user') return forward;
  // dockerd tags the image with every `t` (r.Form["t"]), so every one is checked.
  const tags = target.query.filter(([key]) => key === 't').map(([, value]) => value);
  const namespace = userImageNamespace(caller.user);
  if (tags.length === 0) {
    return refuse(
      403,
      'build-tag',
      `name the image: docker build -t ${namespace}<name> (or ds01 image create NAME)`,
    );
  }
  for (const tag of tags) {
    const problem = userImageRefProblem(caller.user, tag.includes(':') ? tag : `${tag}:latest`);
    if (problem) return refuse(403, 'build-tag', `${problem} (docker build -t ${namespace}<name>)`, tag);
  }
  return {
    ...forward,
    epilogue: async (status) => (status === 200 ? checkBuiltImages(routeCall, caller.user, tags) : null),
  };
}

/** After a user's build: each tag over the size limit removed (and the build told), the others recorded. */
async function checkBuiltImages(routeCall: RouteCall, user: string, tags: string[]): Promise<string | null> {
  const { context, caller } = routeCall;
  const limit = context.images.maxSizeBytes;
  const now = () => context.clock().toISOString();
  const refusals: string[] = [];
  for (const tag of tags) {
    const image = tag.includes(':') ? tag : `${tag}:latest`;
    const inspect = await context.upstream.json('GET', encodeTarget(null, ['images', image, 'json'], []));
    if (inspect.status !== 200) continue; // the build failed before tagging: nothing was made
    const { Id: imageId, Size: sizeBytes } = inspect.body as { Id: string; Size: number };
    if (limit !== null && sizeBytes > limit) {
      await context.upstream.json('DELETE', encodeTarget(null, ['images', image], []));
      await recordImageEvent(
        context,
        caller,
        ImageRemoved({ user, image, reason: 'over_size_limit', sizeBytes, limitBytes: limit, at: now() }),
      );
      refusals.push(
        `${image} is ${gigabytes(sizeBytes)}, larger than this server allows (${gigabytes(limit)}, images.max_size_gb): ` +
          'it was removed; make it smaller (fewer packages, a slimmer base, no caches)',
      );
      continue;
    }
    await recordImageEvent(context, caller, ImageBuilt({ user, image, imageId, sizeBytes, at: now() }));
  }
  if (refusals.length === 0) return null;
  const message = refusals.join('; ');
  return `${JSON.stringify({ errorDetail: { message }, error: message })}\n`;
}

function gigabytes(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(bytes < 1024 ** 3 ? 3 : 1)} GB`;
}

/**
 * DELETE /images/{name}: a user removes their own images only — named in their namespace (an id or
 * a digest may be another's image too), without force (which untags an image others' containers
 * use). Recorded (ImageRemoved) once dockerd has removed it.
 */
async function decideImageDelete(routeCall: RouteCall): Promise<Decision> {
  const { context, caller, call, target, match } = routeCall;
  const name = match.param ?? '';
  const forwarded = encodeTarget(target.version, segments(match, name), target.query);
  if (caller.kind !== 'user') return pipe(call.method, forwarded);
  const image = name.includes(':') ? name : `${name}:latest`;
  const problem = userImageRefProblem(caller.user, image);
  if (problem) return refuse(403, 'image-delete', `${problem}: you may remove your own images only`, name);
  if (['1', 'true'].includes(firstValue(target.query, 'force') ?? ''))
    return refuse(
      403,
      'image-delete',
      'removing an image with force is for admins: stop what uses it first',
      name,
    );
  return forwardJson(call.method, forwarded, undefined, async (status) => {
    if (status !== 200) return undefined;
    await recordImageEvent(
      context,
      caller,
      ImageRemoved({ user: caller.user, image, reason: 'removed', at: context.clock().toISOString() }),
    );
    return undefined;
  });
}

/** A decision that forwards `json` as the body and records the JSON answer with `onJson`. */
export function forwardJson(method: string, target: string, body: unknown, onJson: OnJson): Forward {
  return {
    kind: 'forward',
    method,
    target,
    body: body === undefined ? undefined : jsonBody(body),
    response: { mode: 'json', onJson },
  };
}
