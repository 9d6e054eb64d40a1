import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { imagesConfigOf } from '@ds01/config';
import { displayNameOf, dockerNameOf, userImageRef } from '@ds01/domain';
import { type Command, Option } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { deploy, userSession } from './container.ts';
import { buildImage, chooseBase } from './image.ts';
import { nonNegativeInteger } from './parse.ts';
import {
  devcontainerGpus,
  PROJECT_TEMPLATES,
  type ProjectTemplate,
  projectFiles,
} from './projectTemplates.ts';

const HELP = `
A project is a folder with a Dockerfile, a dev container definition and a README: \`init\` makes
one, \`launch\` builds its image (ds01-<you>/<folder name>) when the Dockerfile changed and runs a
container of it with the folder at /workspace. VS Code opens the same folder in a dev container.

The beginner path:
  ds01 project init ~/thesis                 PyTorch, one GPU
  ds01 project launch ~/thesis               build, then a running container
  ds01 container attach thesis               in

ds01-infra's names work too: project-init, project-launch.`;

export function register(program: Command, context: CliContext): void {
  const project = program
    .command('project')
    .description('a project folder: Dockerfile, dev container, README; launch builds and runs it')
    .addHelpText('after', HELP);

  project
    .command('init')
    .description('make a project folder (Dockerfile, .devcontainer/devcontainer.json, README.md)')
    .argument('<dir>', 'the folder (made if missing; its name is the project, image and container name)')
    .addOption(
      new Option('--template <template>', 'what it starts from')
        .choices(PROJECT_TEMPLATES)
        .default('pytorch'),
    )
    .option('--base <base>', "a base of this server instead of the template's (ds01 image bases)")
    .addOption(
      new Option('--gpus <n>', 'GPUs its dev container asks for (default: 1, minimal: 0)').argParser(
        nonNegativeInteger,
      ),
    )
    .addHelpText(
      'after',
      `
Examples:
  ds01 project init ~/thesis                          PyTorch with one GPU
  ds01 project init ~/tf-run --template tensorflow --gpus 2
  ds01 project init ~/tools --template minimal        the server's default base, no GPU`,
    )
    .action(async (dir: string, options: { template: ProjectTemplate; base?: string; gpus?: number }) => {
      const folder = resolve(dir);
      const name = projectName(folder);
      const session = await userSession(context);
      const images = imagesConfigOf(context.config().yaml);
      const base = chooseBase(
        context,
        options.base ?? (options.template === 'minimal' ? images.default_base : options.template),
      );
      const files = projectFiles({
        name,
        template: options.template,
        base,
        gpus: options.gpus ?? (options.template === 'minimal' ? 0 : 1),
        user: session.me.user,
        socketPath: session.api.socketPath,
      });
      const existing = Object.keys(files).filter((file) => existsSync(join(folder, file)));
      if (existing.length > 0) {
        throw new CliError(
          `${folder} is a project already (${existing.join(', ')} exist): nothing was written`,
          {
            hint: `launch it: ds01 project launch ${dir}`,
          },
        );
      }
      for (const [file, text] of Object.entries(files)) {
        mkdirSync(dirname(join(folder, file)), { recursive: true });
        writeFileSync(join(folder, file), text);
      }
      context.output.line(`made project ${name} in ${folder}: ${Object.keys(files).join(', ')}`);
      context.output.line(`Next: ds01 project launch ${dir}`);
    });

  project
    .command('launch')
    .description("build the project's image if needed, then run its container (or start it again)")
    .argument('<dir>', 'the project folder')
    .option('--build', 'build the image even when the Dockerfile has not changed')
    .addOption(
      new Option('--gpus <n>', "GPUs (default: its devcontainer.json's --gpus)").argParser(
        nonNegativeInteger,
      ),
    )
    .option('--profile <profile>', 'a MIG profile for its GPU (1g.10gb ...)')
    .option('--attach', 'attach to its terminal once it runs')
    .addHelpText(
      'after',
      `
Examples:
  ds01 project launch ~/thesis
  ds01 project launch . --profile 1g.10gb     a MIG slice instead
  ds01 project launch . --build               rebuild, e.g. after requirements.txt changed`,
    )
    .action(
      async (
        dir: string,
        options: { build?: boolean; gpus?: number; profile?: string; attach?: boolean },
      ) => {
        const folder = resolve(dir);
        const dockerfile = join(folder, 'Dockerfile');
        if (!existsSync(dockerfile)) {
          throw new CliError(`${folder} has no Dockerfile: it is not a project`, {
            hint: `make it one: ds01 project init ${dir}`,
          });
        }
        const name = projectName(folder);
        const session = await userSession(context);
        const image = userImageRef(session.me.user, name);
        const built = (await session.docker.images(image)).find((i) => i.image === image);
        const changed = !built || statSync(dockerfile).mtime > new Date(built.createdAt);
        if (options.build || changed) {
          context.output.line(`building ${image} ...`);
          await buildImage(context, session, name, { folder });
        }
        const running = (await session.docker.list(true)).find(
          (c) => c.dockerName === dockerNameOf(name, session.me.uid),
        );
        if (running && !changed && !options.build) {
          const result = await session.docker.start(running.id);
          context.output.line(
            `${displayNameOf(running.dockerName)} ${result === 'already' ? 'is running' : 'started again'}: ds01 container attach ${name}`,
          );
          return;
        }
        if (running) {
          throw new CliError(`the image changed, and ${name}'s container runs the old one`, {
            hint: `retire it (ds01 container retire ${name}), then launch again`,
          });
        }
        const devcontainer = join(folder, '.devcontainer', 'devcontainer.json');
        const gpus =
          options.gpus ??
          (existsSync(devcontainer) ? devcontainerGpus(readFileSync(devcontainer, 'utf8')) : 1);
        await deploy(context, name, {
          image,
          project: folder,
          ...(gpus === 0 && !options.profile ? { cpuOnly: true } : { gpus: Math.max(gpus, 1) }),
          ...(options.profile ? { profile: options.profile } : {}),
          ...(options.attach ? { attach: true } : {}),
          start: true,
        });
      },
    );
}

/** The folder's name as an image and container name: lowercase, other characters made '-'. */
export function projectName(folder: string): string {
  const name = basename(folder)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  if (!name) {
    throw new CliError(`${folder}: its name gives no project name`, {
      hint: 'name the folder with letters or digits, e.g. ~/thesis',
    });
  }
  return name;
}
