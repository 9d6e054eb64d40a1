import { Ds01Error } from '@ds01/errors';
/**
 * The request target (path and query) read as dockerd reads it, so that the gateway decides on what
 * dockerd will act on: Go's net/http parses the target, gorilla mux (moby's router) matches routes
 * on the *decoded* path after cleaning it, and handlers read the query with url.ParseQuery, taking
 * the first value of a repeated key (r.Form.Get).
 *
 * Where Go would answer differently than the gateway can reproduce exactly — a path mux would
 * redirect (`..`, `.`, `//`), an escape Go or mux would read as a different string, a semicolon
 * (Go refuses it), control characters — the request is refused with 400 rather than forwarded.
 * What is forwarded is re-encoded from this reading, never the caller's raw bytes.
 */

export class BadRequestError extends Ds01Error {
  override readonly name = 'BadRequestError';
  readonly status: number;
  constructor(message: string, status = 400) {
    super(message);
    this.status = status;
  }
}

export interface RequestTarget {
  /** The API version of a `/v1.NN/` prefix; null when the path had none (dockerd's current one). */
  version: string | null;
  /** The decoded path without the version prefix, e.g. `/containers/my app/json`. */
  path: string;
  /** The query's pairs in order, decoded (duplicates kept: dockerd takes the first). */
  query: ReadonlyArray<readonly [string, string]>;
}

/**
 * The oldest API version the gateway forwards. Before 1.24 dockerd accepts a HostConfig in the body
 * of `start` (replacing the one the create policy checked) and reads many fields differently.
 */
export const MIN_API_VERSION = '1.24';

const VERSION_PREFIX = /^\/v([0-9.]+)(\/.*)$/;

export function parseRequestTarget(raw: string): RequestTarget {
  if (!raw.startsWith('/')) throw new BadRequestError(`request target must be a path, not ${show(raw)}`);
  // Bytes Go's parser refuses or reads otherwise (spaces, controls, '#', non-ASCII) are never guessed at.
  if (/[^\x21-\x7e]|#/.test(raw)) {
    throw new BadRequestError(`request target holds a character that must be percent-encoded: ${show(raw)}`);
  }
  const questionMark = raw.indexOf('?');
  const rawPath = questionMark < 0 ? raw : raw.slice(0, questionMark);
  const rawQuery = questionMark < 0 ? '' : raw.slice(questionMark + 1);
  const decoded = decodeEscapes(rawPath, 'path');
  if (hasControlCharacter(decoded)) {
    throw new BadRequestError(`path holds a control character once decoded: ${show(raw)}`);
  }
  if (cleanPath(decoded) !== decoded) {
    // mux answers such a path with a redirect to its cleaned form; a client should send that itself.
    throw new BadRequestError(
      `path is not in clean form ('.', '..' or empty segments, once decoded): ${show(rawPath)}; send ${show(cleanPath(decoded))}`,
    );
  }
  let version: string | null = null;
  let path = decoded;
  const versioned = VERSION_PREFIX.exec(decoded);
  if (versioned) {
    version = versioned[1]!;
    path = versioned[2]!;
    if (!/^\d+\.\d+$/.test(version)) throw new BadRequestError(`API version ${show(version)} is not N.NN`);
    if (compareVersions(version, MIN_API_VERSION) < 0) {
      throw new BadRequestError(
        `API version ${version} is older than the gateway accepts (${MIN_API_VERSION}); use a newer client or DOCKER_API_VERSION=${MIN_API_VERSION}`,
      );
    }
  }
  return { version, path, query: parseQuery(rawQuery) };
}

/** Go's url.ParseQuery, refusing (400) what it reports as an error rather than skipping the pair. */
export function parseQuery(rawQuery: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const part of rawQuery.split('&')) {
    if (part.includes(';')) throw new BadRequestError('invalid semicolon separator in query');
    if (part === '') continue;
    const equals = part.indexOf('=');
    const key = equals < 0 ? part : part.slice(0, equals);
    const value = equals < 0 ? '' : part.slice(equals + 1);
    pairs.push([decodeEscapes(key, 'query'), decodeEscapes(value, 'query')]);
  }
  return pairs;
}

/** Go's url.unescape: `%XX` with two hex digits; in a query `+` is a space. Invalid UTF-8 is refused. */
function decodeEscapes(text: string, mode: 'path' | 'query'): string {
  if (/%(?![0-9a-fA-F]{2})/.test(text)) throw new BadRequestError(`invalid URL escape in ${show(text)}`);
  const plus = mode === 'query' ? text.replaceAll('+', ' ') : text;
  try {
    return decodeURIComponent(plus);
  } catch {
    throw new BadRequestError(`escape in ${show(text)} is not valid UTF-8`);
  }
}

/** gorilla mux's cleanPath: Go's path.Clean, keeping a trailing slash. */
export function cleanPath(path: string): string {
  if (path === '') return '/';
  const rooted = path.startsWith('/') ? path : `/${path}`;
  const out: string[] = [];
  for (const segment of rooted.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  const cleaned = `/${out.join('/')}`;
  return rooted.endsWith('/') && cleaned !== '/' ? `${cleaned}/` : cleaned;
}

/** The first value of a query key, as Go's r.Form.Get reads it; undefined when absent. */
export function firstValue(query: RequestTarget['query'], key: string): string | undefined {
  return query.find(([k]) => k === key)?.[1];
}

/** Re-encodes a decoded path and query into the target forwarded to dockerd (its own reading of it is this one). */
export function encodeTarget(
  version: string | null,
  segments: readonly string[],
  query: RequestTarget['query'],
): string {
  const path = `${version === null ? '' : `/v${version}`}/${segments.map(encodeURIComponent).join('/')}`;
  if (query.length === 0) return path;
  return `${path}?${query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`;
}

export function compareVersions(a: string, b: string): number {
  const [aMajor, aMinor] = a.split('.').map(Number) as [number, number];
  const [bMajor, bMinor] = b.split('.').map(Number) as [number, number];
  return aMajor - bMajor || aMinor - bMinor;
}

function show(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}

/** C0 controls, DEL, and the line separators JavaScript's `.` does not match but Go's does. */
function hasControlCharacter(text: string): boolean {
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f || code === 0x2028 || code === 0x2029) return true;
  }
  return false;
}
