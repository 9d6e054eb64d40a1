import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { imagesConfigOf } from '@ds01/config';
import { userImageRef } from '@ds01/domain';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { deploy, userSession } from './container.ts';
import { buildImage, chooseBase } from './image.ts';
import { nonNegativeInteger } from './parse.ts';
import { projectName } from './project.ts';
import { PROJECT_TEMPLATES, type ProjectTemplate, projectFiles } from './projectTemplates.ts';

const HELP = `
The first-day wizard: checks your DS01 socket, shows your limits and what is free, then makes your
first project (ds01 project init) and its container (ds01 container deploy). Nothing is created
until every answer is in; a failing step undoes what this run made.

Examples:
  ds01 setup                                            asks, with defaults
  ds01 setup --yes --project ~/thesis --cpu-only        no questions (scripts)`;

interface SetupOptions {
  yes?: boolean;
  project?: string;
  template?: ProjectTemplate;
  gpus?: number;
  cpuOnly?: boolean;
  name?: string;
}

export function register(program: Command, context: CliContext): void {
  program
    .command('setup')
    .description('first-day wizard: check your socket, see your limits, make a project and its container')
    .option('-y, --yes', 'no questions: take the defaults and the flags')
    .option('--project <dir>', 'the project folder (default: ~/ds01-project)')
    .addOption(new Option('--template <template>', 'what it starts from').choices(PROJECT_TEMPLATES))
    .addOption(new Option('--gpus <n>', 'GPUs for the container').argParser(nonNegativeInteger))
    .option('--cpu-only', 'no GPU')
    .option('--name <name>', 'the container name (default: the folder name)')
    .addHelpText('after', HELP)
    .action(async (options: SetupOptions) => {
      await setup(context, options);
    });
}

async function setup(context: CliContext, options: SetupOptions): Promise<void> {
  const out = context.output;
  // Step 1: the socket. Without it nothing else can work, so say exactly what to fix.
  let session: Awaited<ReturnType<typeof userSession>>;
  try {
    session = await userSession(context);
  } catch (error) {
    throw new CliError(`your DS01 socket does not answer (${(error as Error).message})`, {
      hint: 'export DOCKER_HOST=unix:///run/ds01/users/$USER/docker.sock (infra/profile.d/ds01-docker-host.sh sets it at login; ask an admin to install it in /etc/profile.d)',
    });
  }
  const expected = `unix://${session.api.socketPath}`;
  out.line(`socket: ${session.api.socketPath} answers as ${session.me.user} (uid ${session.me.uid})`);
  if (process.env.DOCKER_HOST !== expected) {
    out.line(
      `  DOCKER_HOST is ${process.env.DOCKER_HOST ?? 'unset'}: set it to ${expected} (infra/profile.d/ds01-docker-host.sh does it at login) so plain docker and VS Code use DS01`,
    );
  }
  // Step 2: limits and what is free, for the user to choose GPUs with.
  for (const path of ['/ds01/v1/limits', '/ds01/v1/gpus']) {
    try {
      const body = await session.api.get(z.unknown(), path);
      out.line(`${path.split('/').pop()}: ${JSON.stringify(body)}`);
    } catch (error) {
      out.line(`${path}: not available (${(error as Error).message})`);
    }
  }
  // Step 3: every answer first; nothing is made until all are in (Ctrl-C leaves nothing).
  const answers = await ask(options);
  const folder = resolve(answers.project);
  const projName = projectName(folder);
  const name = answers.name ?? projName;
  if (existsSync(folder)) {
    throw new CliError(`${folder} exists already: setup makes a new project`, {
      hint: `pick another --project, or launch it: ds01 project launch ${folder}`,
    });
  }
  const images = imagesConfigOf(context.config().yaml);
  const base = chooseBase(context, answers.template === 'minimal' ? images.default_base : answers.template);
  const files = projectFiles({
    name: projName,
    template: answers.template,
    base,
    gpus: answers.gpus,
    user: session.me.user,
    socketPath: session.api.socketPath,
  });
  // Step 4: make, in order; a failure removes the folder this run made.
  try {
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(dirname(join(folder, file)), { recursive: true });
      writeFileSync(join(folder, file), text);
    }
    out.line(`made project ${projName} in ${folder}`);
    out.line(`building ${userImageRef(session.me.user, projName)} ...`);
    await buildImage(context, session, projName, { folder });
    await deploy(context, name, {
      image: userImageRef(session.me.user, projName),
      project: folder,
      ...(answers.gpus === 0 ? { cpuOnly: true } : { gpus: answers.gpus }),
      start: true,
    });
  } catch (error) {
    rmSync(folder, { recursive: true, force: true });
    out.line(`setup failed: removed ${folder} again`);
    throw error;
  }
  out.line();
  out.line('Every day:');
  out.line(`  ds01 container attach ${name}     in (leave: Ctrl-P Ctrl-Q)`);
  out.line(`  ds01 project launch ${folder}     build if changed, run again`);
  out.line(`  ds01 container retire ${name}     done: frees the GPU at once`);
}

interface Answers {
  project: string;
  template: ProjectTemplate;
  gpus: number;
  name?: string;
}

async function ask(options: SetupOptions): Promise<Answers> {
  const defaults: Answers = {
    project: options.project ?? join(homedir(), 'ds01-project'),
    template: options.template ?? 'pytorch',
    gpus: options.cpuOnly ? 0 : (options.gpus ?? 1),
    ...(options.name ? { name: options.name } : {}),
  };
  if (options.yes) return defaults;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  // Ctrl-C at a prompt: exit at once, before anything exists.
  rl.on('SIGINT', () => {
    process.stdout.write('\ncancelled: nothing was created\n');
    process.exit(130);
  });
  try {
    const project = (await rl.question(`Project folder [${defaults.project}]: `)) || defaults.project;
    const templateAnswer = (await rl.question(
      `Template (${PROJECT_TEMPLATES.join('/')}) [${defaults.template}]: `,
    )) as ProjectTemplate | '';
    const template = templateAnswer || defaults.template;
    if (!PROJECT_TEMPLATES.includes(template)) {
      throw new CliError(`no template ${template}`, { hint: `one of ${PROJECT_TEMPLATES.join(', ')}` });
    }
    const gpusAnswer = await rl.question(`GPUs (0 = CPU only) [${defaults.gpus}]: `);
    const gpus = gpusAnswer ? nonNegativeInteger(gpusAnswer) : defaults.gpus;
    return { ...defaults, project, template, gpus };
  } finally {
    rl.close();
  }
}
