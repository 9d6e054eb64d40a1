import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { imagesConfigOf } from '@ds01/config';
import { displayNameOf, dockerNameOf, userImageRef } from '@ds01/domain';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import type { Ds01ApiClient } from '../gateway/ds01ApiClient.ts';
import { limitItems, ShownLimits } from '../output/limits.ts';
import { deploy, type UserSession, userSession } from './container.ts';
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
  await showLimits(context, session.api);
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
  // Step 4: make, in order. From here Ctrl-C no longer ends the process at once: the step under
  // way finishes (dockerd would finish a build or a create without us, leaving it unseen), then
  // everything this run made is undone, newest first, and the run ends with 130.
  const imageRef = userImageRef(session.me.user, projName);
  const imageWasThere = await session.docker.imageExists(imageRef);
  const made: Made = { folder: null, image: null, container: null };
  const stop = context.interruption.claim();
  const onStop = () => out.line('\nstopping: setup finishes this step, then undoes what it made');
  stop.addEventListener('abort', onStop, { once: true });
  const step = async (run: () => Promise<void> | void) => {
    if (stop.aborted) throw stop.reason;
    await run();
  };
  try {
    await step(() => {
      made.folder = folder;
      for (const [file, text] of Object.entries(files)) {
        mkdirSync(dirname(join(folder, file)), { recursive: true });
        writeFileSync(join(folder, file), text);
      }
      out.line(`made project ${projName} in ${folder}`);
    });
    await step(async () => {
      out.line(`building ${imageRef} ...`);
      await buildImage(context, session, projName, { folder });
      // An image of that name from before (another project) is the user's: only a new one is undone.
      if (!imageWasThere) made.image = imageRef;
    });
    await step(async () => {
      await deploy(context, name, {
        image: imageRef,
        project: folder,
        ...(answers.gpus === 0 ? { cpuOnly: true } : { gpus: answers.gpus }),
        start: true,
      });
      made.container = dockerNameOf(name, session.me.uid);
    });
    await step(() => {});
  } catch (error) {
    await undo(context, session, made);
    throw error;
  } finally {
    stop.removeEventListener('abort', onStop);
  }
  out.line();
  out.line('Every day:');
  out.line(`  ds01 container attach ${name}     in (leave: Ctrl-P Ctrl-Q)`);
  out.line(`  ds01 project launch ${folder}     build if changed, run again`);
  out.line(`  ds01 container retire ${name}     done: frees the GPU at once`);
}

/** The user's limits with what they use now, and the free GPU slots; what cannot be read is said so. */
async function showLimits(context: CliContext, api: Ds01ApiClient): Promise<void> {
  const out = context.output;
  try {
    const [limits, gpus, containers] = await Promise.all([
      api.get(ShownLimits, '/ds01/v1/limits'),
      api.get(FreeGpus, '/ds01/v1/gpus'),
      api.get(z.array(z.unknown()), '/ds01/v1/containers'),
    ]);
    const use = {
      gpuEquivalents: gpus.held.reduce((sum, row) => sum + row.gpu_equivalents, 0),
      containers: containers.length,
    };
    out.line('your limits:');
    out.fields(
      [
        ...limitItems(limits, use),
        { label: 'free now', value: `${gpus.free} GPU slot${gpus.free === 1 ? '' : 's'}` },
      ].map((item) => [`  ${item.label}`, item.value] as const),
    );
  } catch (error) {
    out.line(`your limits: not available (${(error as Error).message})`);
  }
}

/** What setup reads of `/ds01/v1/gpus`: how many slots are free, what the user holds. */
const FreeGpus = z.object({
  free: z.number().int(),
  held: z.array(z.object({ gpu_equivalents: z.number() })),
});

/** What this run made, to be undone when it fails or is stopped (null: not made). */
interface Made {
  folder: string | null;
  image: string | null;
  /** Docker's name of the container. */
  container: string | null;
}

/**
 * Undoes what this run made, newest first: the container (retired through the DS01 API: stopped,
 * its GPUs freed at once, removed), the image, the folder. Each is tried even when one before
 * failed, and what could not be undone is said with how to do it by hand.
 */
async function undo(context: CliContext, session: UserSession, made: Made): Promise<void> {
  const out = context.output;
  const steps: [what: string, run: () => Promise<unknown>, byHand: string][] = [];
  if (made.container) {
    const container = made.container;
    steps.push([
      `container ${displayNameOf(container)}`,
      () =>
        session.api.post(
          z.unknown(),
          `/ds01/v1/containers/${encodeURIComponent(container)}/retire?t=0`,
          30_000,
        ),
      `ds01 container retire ${displayNameOf(container)}`,
    ]);
  }
  if (made.image) {
    const image = made.image;
    steps.push([`image ${image}`, () => session.docker.removeImage(image), `docker rmi ${image}`]);
  }
  if (made.folder) {
    const folder = made.folder;
    steps.push([folder, async () => rmSync(folder, { recursive: true, force: true }), `rm -r ${folder}`]);
  }
  for (const [what, run, byHand] of steps) {
    try {
      await run();
      out.line(`undone: removed ${what}`);
    } catch (error) {
      out.line(`could not remove ${what} (${(error as Error).message}): remove it with ${byHand}`);
    }
  }
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
