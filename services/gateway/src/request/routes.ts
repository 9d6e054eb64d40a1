/**
 * The endpoints a user may call through their socket: method + route pattern, in moby's own
 * spelling (api/server/router/*), matched the way gorilla mux matches them on the decoded path.
 * Anything else is refused: "not allowed through the DS01 gateway". A new Docker endpoint is thus
 * denied until someone decides what it may touch.
 *
 * `{name}` is moby's `{name:.*}`: any characters but a newline (Go's `.`), slashes included, greedy.
 * `{id+}` is `{id:.+}`.
 */

/** What a route names, which decides the check the gateway makes before forwarding. */
export type RouteKind =
  | 'open' // names nothing a user owns (ping, version, images read)
  | 'container' // {name} is a container: the caller's own only
  | 'containerCreate'
  | 'containerList'
  | 'events'
  | 'execCreate' // {name} is a container
  | 'exec' // {name} is an exec id: its container must be the caller's
  | 'commit' // ?container= names a container
  | 'imagePull'
  | 'build'
  | 'imageDelete' // {name} must be in the caller's namespace (ds01-<user>/)
  | 'volumeCreate'
  | 'volumeList'
  | 'volume'
  | 'networkCreate'
  | 'networkList'
  | 'network'
  | 'networkConnect';

/** How the body is read: none allowed, JSON (parsed, limited, re-serialised), or a stream (a tar) passed on. */
export type BodyKind = 'none' | 'json' | 'stream';

export interface Route {
  method: string;
  pattern: string;
  kind: RouteKind;
  body: BodyKind;
  /** The connection is hijacked (attach, exec start): answered 101 and piped both ways. */
  hijack?: true;
  /** The response is a stream read as it comes (logs -f, events, stats, build, pull). */
  streaming?: true;
  /** Changes something: recorded when it comes through the admin socket. */
  mutating?: true;
}

const route = (
  method: string,
  pattern: string,
  kind: RouteKind,
  body: BodyKind = 'none',
  extra: Partial<Pick<Route, 'hijack' | 'streaming'>> = {},
): Route => ({
  method,
  pattern,
  kind,
  body,
  ...extra,
  ...(method === 'GET' || method === 'HEAD' ? {} : { mutating: true as const }),
});

export const ROUTES: readonly Route[] = [
  route('GET', '/_ping', 'open'),
  route('HEAD', '/_ping', 'open'),
  route('GET', '/version', 'open'),
  route('GET', '/info', 'open'),
  route('GET', '/events', 'events', 'none', { streaming: true }),

  route('GET', '/containers/json', 'containerList'),
  route('POST', '/containers/create', 'containerCreate', 'json'),
  route('GET', '/containers/{name}/json', 'container'),
  route('GET', '/containers/{name}/top', 'container'),
  route('GET', '/containers/{name}/logs', 'container', 'none', { streaming: true }),
  route('GET', '/containers/{name}/changes', 'container'),
  route('GET', '/containers/{name}/export', 'container', 'none', { streaming: true }),
  route('GET', '/containers/{name}/stats', 'container', 'none', { streaming: true }),
  route('GET', '/containers/{name}/archive', 'container', 'none', { streaming: true }),
  route('HEAD', '/containers/{name}/archive', 'container'),
  route('PUT', '/containers/{name}/archive', 'container', 'stream'),
  route('POST', '/containers/{name}/start', 'container'),
  route('POST', '/containers/{name}/stop', 'container'),
  route('POST', '/containers/{name}/restart', 'container'),
  route('POST', '/containers/{name}/kill', 'container'),
  route('POST', '/containers/{name}/pause', 'container'),
  route('POST', '/containers/{name}/unpause', 'container'),
  route('POST', '/containers/{name}/wait', 'container', 'none', { streaming: true }),
  route('POST', '/containers/{name}/resize', 'container'),
  route('POST', '/containers/{name}/rename', 'container'),
  route('POST', '/containers/{name}/update', 'container', 'json'),
  route('POST', '/containers/{name}/attach', 'container', 'none', { hijack: true }),
  route('POST', '/containers/{name}/exec', 'execCreate', 'json'),
  route('DELETE', '/containers/{name}', 'container'),

  route('POST', '/exec/{name}/start', 'exec', 'json', { hijack: true }),
  route('POST', '/exec/{name}/resize', 'exec'),
  route('GET', '/exec/{name}/json', 'exec'),
  route('POST', '/commit', 'commit', 'json'),

  route('GET', '/images/json', 'open'),
  route('GET', '/images/{name}/json', 'open'),
  route('GET', '/images/{name}/history', 'open'),
  route('POST', '/images/create', 'imagePull', 'none', { streaming: true }),
  route('GET', '/distribution/{name}/json', 'open'),
  route('POST', '/build', 'build', 'stream', { streaming: true }),
  route('DELETE', '/images/{name}', 'imageDelete'),

  route('GET', '/volumes', 'volumeList'),
  route('POST', '/volumes/create', 'volumeCreate', 'json'),
  route('GET', '/volumes/{name}', 'volume'),
  route('DELETE', '/volumes/{name}', 'volume'),

  route('GET', '/networks', 'networkList'),
  route('GET', '/networks/', 'networkList'),
  route('POST', '/networks/create', 'networkCreate', 'json'),
  route('POST', '/networks/{id+}/connect', 'networkConnect', 'json'),
  route('POST', '/networks/{id+}/disconnect', 'networkConnect', 'json'),
  route('GET', '/networks/{id+}', 'network'),
  route('DELETE', '/networks/{id+}', 'network'),
];

export interface RouteMatch {
  route: Route;
  /** The route's one parameter ({name} / {id+}), decoded; null for routes without one. */
  param: string | null;
  /** The literal path before and after the parameter, to rebuild the target around a resolved id. */
  before: string;
  after: string;
}

const compiled = ROUTES.map((r) => {
  const [before, after] = r.pattern.split(/\{name\}|\{id\+\}/) as [string, string | undefined];
  const paramPattern = r.pattern.includes('{id+}') ? '([^\\n]+)' : '([^\\n]*)';
  const source =
    after === undefined
      ? `^${regexLiteral(before)}$`
      : `^${regexLiteral(before)}${paramPattern}${regexLiteral(after)}$`;
  return { route: r, regex: new RegExp(source), before, after: after ?? '' };
});

/** The first route (in moby's registration order) matching method and decoded path; null: not allowed. */
export function matchRoute(method: string, path: string): RouteMatch | null {
  for (const { route: r, regex, before, after } of compiled) {
    if (r.method !== method) continue;
    const match = regex.exec(path);
    if (match) return { route: r, param: match[1] ?? null, before, after };
  }
  return null;
}

function regexLiteral(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
