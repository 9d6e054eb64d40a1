import { describe, expect, it } from 'vitest';
import { devcontainerGpus, projectFiles, stripJsonComments } from '../src/commands/projectTemplates.ts';

const spec = {
  name: 'thesis',
  template: 'pytorch' as const,
  base: { image: 'pytorch/pytorch:2.5.1-cuda12.1-cudnn9-runtime', install: 'pip install --no-cache-dir' },
  gpus: 1,
  user: 'alice',
  socketPath: '/run/ds01/users/alice/docker.sock',
};

describe('ds01 project init templates', () => {
  it('a pytorch project: its Dockerfile installs requirements.txt; its dev container uses the image launch builds', () => {
    const files = projectFiles(spec);
    expect(Object.keys(files).sort()).toEqual(
      ['.devcontainer/devcontainer.json', 'Dockerfile', 'README.md', 'requirements.txt'].sort(),
    );
    expect(files['Dockerfile']).toContain('RUN pip install --no-cache-dir -r /tmp/ds01-requirements.txt');
    const devcontainer = JSON.parse(stripJsonComments(files['.devcontainer/devcontainer.json']!));
    expect(devcontainer).toMatchObject({
      image: 'ds01-alice/thesis:latest',
      workspaceFolder: '/workspace',
      runArgs: ['--gpus', '1'],
      updateRemoteUserUID: false,
    });
    expect(files['README.md']).toContain('ds01 container retire thesis');
  });

  it('a minimal project asks for no GPU and has no requirements.txt', () => {
    const files = projectFiles({ ...spec, template: 'minimal', gpus: 0 });
    expect(files['requirements.txt']).toBeUndefined();
    expect(devcontainerGpus(files['.devcontainer/devcontainer.json']!)).toBe(0);
  });

  it.each([
    ['{"runArgs": ["--gpus", "2"]}', 2],
    ['{"runArgs": ["--gpus=all"]}', 1],
    ['{"runArgs": ["--gpus", "count=3"]}', 3],
    ['// a comment with "quotes"\n{"name": "a // not a comment", /* x */ "runArgs": []}', 0],
  ])('%s asks for %i GPUs', (text, count) => {
    expect(devcontainerGpus(text)).toBe(count);
  });
});
