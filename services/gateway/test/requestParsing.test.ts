import { describe, expect, it } from 'vitest';
import { canonicalize, containerCreateShape, foldKey, parseGoJson } from '../src/request/goJson.ts';
import {
  BadRequestError,
  cleanPath,
  encodeTarget,
  parseRequestTarget,
} from '../src/request/requestTarget.ts';
import { matchRoute } from '../src/request/routes.ts';

const refused = (raw: string) => {
  try {
    parseRequestTarget(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestError);
    return (error as BadRequestError).message;
  }
  throw new Error(`${raw} was not refused`);
};

describe('the request target, read as dockerd reads it', () => {
  it('takes the API version prefix or none', () => {
    expect(parseRequestTarget('/v1.41/containers/json')).toMatchObject({
      version: '1.41',
      path: '/containers/json',
    });
    expect(parseRequestTarget('/containers/json')).toMatchObject({ version: null, path: '/containers/json' });
  });

  it('refuses versions older than 1.24 (start then read a HostConfig body) and malformed ones', () => {
    expect(refused('/v1.23/containers/x/start')).toMatch(/older than the gateway accepts/);
    expect(refused('/v1..41/containers/json')).toMatch(/is not N.NN/);
  });

  it('matches routes on the decoded path, as gorilla mux does, and re-encodes what it forwards', () => {
    const target = parseRequestTarget('/v1.41/containers/my%20box%2Fa/json');
    expect(target.path).toBe('/containers/my box/a/json');
    const match = matchRoute('GET', target.path)!;
    expect(match.param).toBe('my box/a');
    expect(encodeTarget('1.41', ['containers', match.param!, 'json'], [])).toBe(
      '/v1.41/containers/my%20box%2Fa/json',
    );
  });

  it('refuses paths mux would redirect: dot segments (also percent-encoded) and empty segments', () => {
    expect(refused('/containers/../images/json')).toMatch(/not in clean form/);
    expect(refused('/containers/%2e%2e/%2e%2e/info')).toMatch(/not in clean form/);
    expect(refused('/containers//json')).toMatch(/not in clean form/);
    expect(refused('/./info')).toMatch(/not in clean form/);
    expect(cleanPath('/a/b/../c/')).toBe('/a/c/');
  });

  it('refuses bad escapes, invalid UTF-8, control characters and raw non-ASCII', () => {
    expect(refused('/containers/%zz/json')).toMatch(/invalid URL escape/);
    expect(refused('/containers/%ff/json')).toMatch(/not valid UTF-8/);
    expect(refused('/containers/a%0ab/json')).toMatch(/control character/);
    expect(refused('/containers/a%e2%80%a8b/json')).toMatch(/control character/);
    expect(refused('/containers/ä/json')).toMatch(/must be percent-encoded/);
    expect(refused('/containers/a#b/json')).toMatch(/must be percent-encoded/);
    expect(refused('http://docker/containers/json')).toMatch(/must be a path/);
  });

  it('reads the query as Go does: + is a space, duplicates kept in order, semicolons refused', () => {
    expect(parseRequestTarget('/containers/json?all=1&all=0&filters=%7B%7D&x=a+b').query).toEqual([
      ['all', '1'],
      ['all', '0'],
      ['filters', '{}'],
      ['x', 'a b'],
    ]);
    expect(refused('/containers/json?all=1;filters=x')).toMatch(/semicolon/);
    expect(refused('/containers/json?a=%g1')).toMatch(/invalid URL escape/);
  });
});

describe('the allowlist', () => {
  it('names a container with any characters, slashes included, greedily as moby does', () => {
    expect(matchRoute('POST', '/containers/a/exec/start')).toMatchObject({ param: 'a/exec' });
    expect(matchRoute('DELETE', '/containers/a/json')).toMatchObject({ param: 'a/json' });
    expect(matchRoute('GET', '/containers/json')?.route.kind).toBe('containerList');
  });

  it('knows image delete as its own kind (a user may remove images of their namespace only)', () => {
    expect(matchRoute('DELETE', '/images/ds01-alice/thesis:latest')).toMatchObject({
      param: 'ds01-alice/thesis:latest',
      route: { kind: 'imageDelete' },
    });
  });

  it('knows nothing it was not told: prune, image tag, swarm, plugins, sessions are not on it', () => {
    for (const [method, path] of [
      ['POST', '/containers/prune'],
      ['POST', '/images/busybox/tag'],
      ['GET', '/swarm'],
      ['POST', '/plugins/pull'],
      ['POST', '/session'],
      ['GET', '/containers/x/attach/ws'],
      ['GET', '/containers/json/'],
    ] as const) {
      expect(matchRoute(method, path), `${method} ${path}`).toBeNull();
    }
  });
});

describe('JSON bodies, read as Go decodes them', () => {
  it('maps keys onto Go field names case-insensitively, with Unicode folding (ſ is s, K is k)', () => {
    expect(foldKey('ſecurityOpt')).toBe(foldKey('SecurityOpt'));
    expect(foldKey('NetworKMode')).toBe(foldKey('NetworkMode'));
    const body = parseGoJson(
      '{"image":"x","hostconfig":{"privileged":true,"ſecurityOpt":["seccomp=unconfined"],"NetworKMode":"host","binds":["/:/h"]}}',
      containerCreateShape,
      'create',
    );
    expect(body).toEqual({
      Image: 'x',
      HostConfig: {
        Privileged: true,
        SecurityOpt: ['seccomp=unconfined'],
        NetworkMode: 'host',
        Binds: ['/:/h'],
      },
    });
  });

  it('lets the last of several spellings of one field win, as Go does', () => {
    const body = parseGoJson(
      '{"HostConfig":{"Privileged":false,"privileged":true}}',
      containerCreateShape,
      'create',
    );
    expect(body).toEqual({ HostConfig: { Privileged: true } });
  });

  it('keeps map keys (labels) as written and drops fields Go ignores', () => {
    const body = canonicalize({ Labels: { 'Ds01.User': 'x' }, Unknown: 1, Image: 'i' }, containerCreateShape);
    expect(body).toEqual({ Labels: { 'Ds01.User': 'x' }, Image: 'i' });
  });

  it('refuses what Go cannot decode: not JSON, wrong types, fractions in integers', () => {
    expect(() => parseGoJson('{"Image": ', containerCreateShape, 'create')).toThrow(/not valid JSON/);
    expect(() => parseGoJson('{"HostConfig":{"Privileged":"true"}}', containerCreateShape, 'create')).toThrow(
      /HostConfig.Privileged: expected a boolean/,
    );
    expect(() => parseGoJson('{"HostConfig":{"Memory":1.5}}', containerCreateShape, 'create')).toThrow(
      /not a whole number/,
    );
    expect(() => parseGoJson('[]', containerCreateShape, 'create')).toThrow(/expected an object/);
  });

  it('reads mounts deeply: a bind written in lower case is still a bind', () => {
    const body = parseGoJson(
      '{"HostConfig":{"mounts":[{"type":"bind","source":"/","target":"/host"}]}}',
      containerCreateShape,
      'create',
    );
    expect(body).toEqual({ HostConfig: { Mounts: [{ Type: 'bind', Source: '/', Target: '/host' }] } });
  });
});
