import { describe, expect, it } from 'vitest';
import { referencedContainers, referencedVolumes } from '../src/access/containerAccess.ts';
import { ownerFiltered } from '../src/decideRequest.ts';
import { detectInterface } from '../src/handlers/containerCreate.ts';

describe('the owner filter added to lists and events', () => {
  const filtersOf = (query: ReturnType<typeof ownerFiltered>) => {
    if (typeof query === 'string') throw new Error(query);
    const all = query.filter(([k]) => k === 'filters');
    expect(all).toHaveLength(1);
    return JSON.parse(all[0]![1]) as Record<string, Record<string, boolean>>;
  };

  it("adds label=ds01.user=<caller> to the filters the caller gave, in either of dockerd's forms", () => {
    expect(
      filtersOf(ownerFiltered([['filters', '{"label":["a=b"],"status":{"running":true}}']], 'alice')),
    ).toEqual({
      label: { 'a=b': true, 'ds01.user=alice': true },
      status: { running: true },
    });
    expect(filtersOf(ownerFiltered([['all', '1']], 'alice'))).toEqual({ label: { 'ds01.user=alice': true } });
  });

  it('keeps only the first filters (the one dockerd reads), so a second cannot replace the owner filter', () => {
    const query = ownerFiltered(
      [
        ['filters', '{"name":["x"]}'],
        ['filters', '{}'],
      ],
      'alice',
    );
    expect(filtersOf(query)).toEqual({ name: { x: true }, label: { 'ds01.user=alice': true } });
  });

  it('refuses filters dockerd could not read either', () => {
    expect(ownerFiltered([['filters', '{not json']], 'alice')).toMatch(/not JSON/);
    expect(ownerFiltered([['filters', '[]']], 'alice')).toMatch(/JSON object/);
    expect(ownerFiltered([['filters', '{"label":"x"}']], 'alice')).toMatch(/list of strings/);
  });
});

describe('what a create request reaches into', () => {
  it('other containers: --volumes-from, container: network/pid/ipc modes, links', () => {
    expect(
      referencedContainers({
        HostConfig: {
          VolumesFrom: ['a', 'b:ro'],
          NetworkMode: 'container:c',
          PidMode: 'container:d',
          IpcMode: 'shareable',
          Links: ['/e:alias'],
        },
      }),
    ).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('named volumes, from -v and --mount, never host paths', () => {
    expect(
      referencedVolumes({
        HostConfig: {
          Binds: ['data:/data', '/home/alice:/w'],
          Mounts: [
            { Type: 'volume', Source: 'cache', Target: '/c' },
            { Type: 'bind', Source: '/tmp', Target: '/t' },
          ],
        },
      }),
    ).toEqual(['data', 'cache']);
  });

  it('the interface: dev containers and compose by their labels, else docker', () => {
    expect(detectInterface({ 'devcontainer.local_folder': '/home/a/x' })).toBe('devcontainer');
    expect(detectInterface({ 'com.docker.compose.project': 'p' })).toBe('compose');
    expect(detectInterface({})).toBe('docker');
  });

  it('the ds01 CLI may claim atomic in its header, and nothing else; tool labels win over the claim', () => {
    expect(detectInterface({}, 'atomic')).toBe('atomic');
    for (const other of ['api', 'docker', 'ATOMIC', 'orchestration', '', ['atomic', 'atomic']]) {
      expect(detectInterface({}, other), String(other)).toBe('docker');
    }
    expect(detectInterface({ 'devcontainer.local_folder': '/home/a/x' }, 'atomic')).toBe('devcontainer');
    expect(detectInterface({ 'com.docker.compose.project': 'p' }, 'atomic')).toBe('compose');
  });
});
