import type { ImageBase } from '@ds01/config';

/**
 * What `ds01 project init` writes: a Dockerfile on one of the server's bases, a dev container
 * definition that works through the user's DS01 socket, a README for the user. Pure: files as text.
 */
export const PROJECT_TEMPLATES = ['pytorch', 'tensorflow', 'minimal'] as const;
export type ProjectTemplate = (typeof PROJECT_TEMPLATES)[number];

export interface ProjectSpec {
  name: string;
  template: ProjectTemplate;
  base: ImageBase;
  /** GPUs the dev container and `ds01 project launch` ask for (0: none). */
  gpus: number;
  user: string;
  socketPath: string;
}

/** Relative path → contents. */
export function projectFiles(spec: ProjectSpec): Record<string, string> {
  const python = spec.template !== 'minimal';
  return {
    Dockerfile: dockerfile(spec, python),
    ...(python
      ? { 'requirements.txt': '# Your Python packages, one a line (numpy, pandas==2.2, ...)\n' }
      : {}),
    '.devcontainer/devcontainer.json': devcontainerJson(spec),
    'README.md': readme(spec),
  };
}

function dockerfile(spec: ProjectSpec, python: boolean): string {
  return [
    `# The image of ${spec.name}: \`ds01 project launch\` builds it as ds01-${spec.user}/${spec.name}.`,
    `# Base: ${spec.base.description ?? spec.base.image} (ds01 image bases lists this server's).`,
    `FROM ${spec.base.image}`,
    ...(python
      ? [
          'COPY requirements.txt /tmp/ds01-requirements.txt',
          `RUN ${spec.base.install} -r /tmp/ds01-requirements.txt`,
        ]
      : [
          '# Add what your work needs, e.g. RUN apt-get update && apt-get install -y --no-install-recommends git',
        ]),
    'WORKDIR /workspace',
    '',
  ].join('\n');
}

/**
 * The dev container: the project's image (built by `ds01 project launch` from the Dockerfile, as
 * ds01-<user>/<name>: the gateway builds into the user's namespace only, so the devcontainer CLI's
 * own `vsc-...` build tags would be refused), the project at /workspace, GPUs asked with `--gpus N`
 * in runArgs (granted as for `docker run --gpus N`). VS Code and the devcontainer CLI reach the
 * user's socket through DOCKER_HOST (set at login on a DS01 server).
 */
function devcontainerJson(spec: ProjectSpec): string {
  const definition = {
    name: spec.name,
    image: `ds01-${spec.user}/${spec.name}:latest`,
    workspaceFolder: '/workspace',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: devcontainer.json's own variable
    workspaceMount: 'source=${localWorkspaceFolder},target=/workspace,type=bind',
    // A derived image (the CLI's uid update) would be a build outside your namespace.
    updateRemoteUserUID: false,
    ...(spec.gpus > 0 ? { runArgs: ['--gpus', String(spec.gpus)] } : {}),
    customizations: {
      vscode: {
        settings: { 'docker.environment': { DOCKER_HOST: `unix://${spec.socketPath}` } },
      },
    },
  };
  return [
    '// A dev container for DS01: VS Code (Dev Containers: Reopen in Container) or `devcontainer up`.',
    `// Its image is built from ../Dockerfile by \`ds01 project launch\` (run it first, and after changes).`,
    `// It goes through your DS01 socket: DOCKER_HOST=unix://${spec.socketPath} (set at login).`,
    '// runArgs --gpus N asks DS01 for N GPUs (MIG slices count as GPUs); remove it for none.',
    `${JSON.stringify(definition, null, 2)}`,
    '',
  ].join('\n');
}

function readme(spec: ProjectSpec): string {
  return `# ${spec.name}

A DS01 project (template ${spec.template}): its image is built from \`Dockerfile\`
(as \`ds01-${spec.user}/${spec.name}\`), and this folder is \`/workspace\` in its container.

## Daily use

    ds01 project launch .              build the image if the Dockerfile changed, start the container
    ds01 container attach ${spec.name}   its terminal (leave it running: Ctrl-P Ctrl-Q)
    ds01 container retire ${spec.name}   done for now: stop, remove, free the GPU

Your files stay here when the container goes; what you install inside it does not: add
packages to ${spec.template === 'minimal' ? '`Dockerfile`' : '`requirements.txt` (or `Dockerfile`)'} and launch again.

## VS Code

Launch it once (that builds the image), then open this folder and "Dev Containers: Reopen in
Container" (\`.devcontainer/devcontainer.json\`),
or attach to the running one: "Dev Containers: Attach to Running Container..." → \`${spec.name}._.<your uid>\`.
Both need DOCKER_HOST=unix://${spec.socketPath} (a DS01 server sets it at login).

## GPUs

${spec.gpus > 0 ? `It asks for ${spec.gpus} GPU${spec.gpus === 1 ? '' : 's'}` : 'It asks for no GPU'} (\`--gpus\` in the dev container's runArgs;
\`ds01 project launch --gpus N\` or \`--profile 1g.10gb\` for a launch). \`ds01 gpu status\` shows what is free.
`;
}

/** The GPU count a devcontainer.json's runArgs ask for (`--gpus N`, `--gpus=N`, `all` is one); 0 when none. */
export function devcontainerGpus(text: string): number {
  const definition = JSON.parse(stripJsonComments(text)) as { runArgs?: unknown };
  const args = Array.isArray(definition.runArgs) ? definition.runArgs.map(String) : [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = arg === '--gpus' ? args[i + 1] : arg.startsWith('--gpus=') ? arg.slice(7) : undefined;
    if (value === undefined) continue;
    if (value === 'all') return 1;
    const count = Number(/^(?:count=)?(\d+)$/.exec(value)?.[1] ?? Number.NaN);
    return Number.isInteger(count) ? count : 1;
  }
  return 0;
}

/** JSON with // and /* *\/ comments (devcontainer.json is JSONC): the comments removed, strings kept. */
export function stripJsonComments(text: string): string {
  return text.replace(
    /("(?:\\.|[^"\\])*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g,
    (_match, string: string | undefined) => string ?? '',
  );
}
