import {
  detectContainerType,
  detectInterface,
  isInfrastructure,
  isManaged,
  readDs01Labels,
} from '@ds01/domain';
import { describe, expect, it } from 'vitest';
import { type InspectChanges, inspectWith } from './inspectFixture.ts';

const classify = (changes: InspectChanges) => {
  const inspect = inspectWith({ labels: {}, ...changes });
  const ds01 = readDs01Labels(inspect.Config.Labels);
  return {
    interface: detectInterface(inspect, ds01),
    type: detectContainerType(inspect, ds01),
    managed: isManaged(ds01),
    infrastructure: isInfrastructure(inspect, ds01),
  };
};

describe('interface and type, in ds01-infra vocabulary', () => {
  it.each<[string, InspectChanges, string, string]>([
    // What ds01-infra's own creators write (mlc-create-wrapper.sh, docker-wrapper.sh, ds01-jobs, mlc-create-from-image.sh)
    [
      'mlc-create-wrapper container',
      {
        name: 'research._.1001',
        labels: {
          'ds01.managed': 'true',
          'ds01.interface': 'atomic',
          'ds01.user': 'alice',
          'devcontainer.workspaceFolder': '/workspace',
        },
      },
      'atomic',
      'atomic',
    ],
    [
      'container-create (orchestration)',
      { name: 'exp._.1001', labels: { 'ds01.managed': 'true', 'ds01.interface': 'orchestration' } },
      'orchestration',
      'orchestration',
    ],
    ['ds01-jobs (api)', { labels: { 'ds01.managed': 'true', 'ds01.interface': 'api' } }, 'api', 'api'],
    [
      'docker-wrapper docker run',
      { labels: { 'ds01.managed': 'true', 'ds01.container_type': 'docker', 'ds01.user': 'alice' } },
      'atomic',
      'docker',
    ],
    [
      'docker-wrapper dev container',
      {
        labels: {
          'ds01.managed': 'true',
          'ds01.container_type': 'devcontainer',
          'devcontainer.local_folder': '/home/a/x',
        },
      },
      'atomic',
      'devcontainer',
    ],
    [
      'mlc-create-from-image',
      { labels: { 'ds01.managed': 'true', 'ds01.container_type': 'custom' } },
      'atomic',
      'custom',
    ],
    [
      'legacy AIME container (aime.mlc.*)',
      { name: 'old._.1001', labels: { 'aime.mlc.USER': 'alice', 'aime.mlc.DS01_MANAGED': 'true' } },
      'atomic',
      'atomic',
    ],
    [
      'legacy type label aime.mlc.DS01_TYPE (the interface reads no type, as in ds01-infra)',
      { labels: { 'aime.mlc.DS01_TYPE': 'compose' } },
      'docker',
      'compose',
    ],
    // Containers that bypassed ds01-infra
    ['raw docker run', {}, 'docker', 'docker'],
    [
      'dev container (devcontainer.metadata)',
      { labels: { 'devcontainer.local_folder': '/home/a/x', 'devcontainer.metadata': '[]' } },
      'vscode',
      'devcontainer',
    ],
    ['dev container (vscode- name)', { name: 'vscode-abc' }, 'vscode', 'docker'],
    [
      'compose v2 labels',
      { labels: { 'com.docker.compose.project': 'p', 'com.docker.compose.service': 's' } },
      'other',
      'compose',
    ],
    ['compose v1 name without labels', { name: 'proj_web_1' }, 'other', 'docker'],
    [
      'JupyterHub single-user server',
      { name: 'jupyter-alice', labels: { 'hub.jupyter.org/username': 'alice' } },
      'other',
      'docker',
    ],
    [
      'explicit ds01.interface outside the vocabulary falls through',
      { labels: { 'ds01.interface': 'cli' } },
      'docker',
      'docker',
    ],
  ])('%s', (_case, changes, iface, type) => {
    const result = classify(changes);
    expect(result.interface).toBe(iface);
    expect(result.type).toBe(type);
  });

  it('managed: ds01.managed=true or the legacy aime.mlc.DS01_MANAGED=true, nothing else', () => {
    expect(classify({ labels: { 'ds01.managed': 'true' } }).managed).toBe(true);
    expect(classify({ labels: { 'aime.mlc.DS01_MANAGED': 'true' } }).managed).toBe(true);
    expect(classify({ labels: { 'ds01.managed': 'yes' } }).managed).toBe(false);
    expect(classify({ name: 'x._.1001' }).managed).toBe(false);
  });

  it.each<[string, InspectChanges, boolean]>([
    ['ds01.protected=true', { labels: { 'ds01.protected': 'true' } }, true],
    ['monitoring stack label', { labels: { 'ds01.monitoring': 'true' } }, true],
    ['ds01-prometheus', { name: 'ds01-prometheus' }, true],
    ['ds01-dcgm-exporter', { name: 'ds01-dcgm-exporter' }, true],
    ['a user container', { name: 'prometheus-test' }, false],
  ])('infrastructure: %s → %s', (_case, changes, expected) => {
    expect(classify(changes).infrastructure).toBe(expected);
  });
});
