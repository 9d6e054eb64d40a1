import { statSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { containerNameProblem, displayNameOf, dockerNameOf, NAME_UID_SEPARATOR } from '@ds01/domain';
import { DockerRefusedError, runDockerCli, type UserContainer, UserDocker } from '@ds01/host';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.ts';
import { CliError, SilentExit } from '../errors.ts';
import type { Ds01ApiClient } from '../gateway/ds01ApiClient.ts';
import type { Column } from '../output/table.ts';
import { relativeTime } from '../output/time.ts';
import { gpuDenialNextStep, gpuStartFailureHint } from './gpuDenials.ts';
import { nonNegativeInteger, positiveInteger } from './parse.ts';

/** Exit code of a deploy the allocator or the create policy refused (as `ds01 gpu allocate`'s denial). */
export const DENIED_EXIT_CODE = 3;

/** Who the socket says the caller is (GET /ds01/v1/whoami on a user socket). */
const WhoAmI = z.object({ user: z.string(), uid: z.number().int(), gid: z.number().int(), host: z.string() });
export type WhoAmI = z.infer<typeof WhoAmI>;

/** The caller's own workflow: their socket, who it says they are, and Docker through it. */
export interface UserSession {
  api: Ds01ApiClient;
  docker: UserDocker;
  me: WhoAmI;
}

export async function userSession(context: CliContext): Promise<UserSession> {
  const api = context.workflowApi(userInfo().username);
  const me = await api.get(WhoAmI.extend({ user: z.string().nullable() }), '/ds01/v1/whoami');
  if (me.user === null) {
    throw new CliError(`${api.socketPath} is the admin socket: containers and images belong to users`, {
      hint: 'run it as the user, on their socket (/run/ds01/users/<name>/docker.sock)',
    });
  }
  return { api, docker: new UserDocker(api.socketPath), me: { ...me, user: me.user } };
}

/** One of the caller's containers as `ds01 container list` shows it. */
export interface ContainerListRow {
  name: string;
  dockerName: string;
  id: string;
  state: string;
  status: string;
  image: string;
  gpus: string[];
  workspace: string | null;
  createdAt: string;
}

const HELP = `
Your containers, through your own DS01 socket (DOCKER_HOST, or /run/ds01/users/$USER/docker.sock):
everything DS01 applies to \`docker run\` (limits, your cgroup slice, labels, GPU grant) applies here.
A container you call NAME is NAME._.<your uid> to Docker (ds01-infra's naming): two people can both
have \`thesis\`. Your home (or --project DIR) is mounted at /workspace.

The beginner path:
  ds01 container deploy thesis --image ds01-$USER/thesis --gpus 1   a container with a GPU
  ds01 container attach thesis                                     its terminal (leave: Ctrl-P Ctrl-Q)
  ds01 container retire thesis                                     done: stop, remove, free the GPU now

ds01-infra's names work too: container-deploy, container-create, container-retire, container-list, container-start,
container-stop, container-attach.

Exit codes: 0 done, 1 an error, ${DENIED_EXIT_CODE} the GPU or the request was refused (the message says what to do).`;

export function register(program: Command, context: CliContext): void {
  const container = program
    .command('container')
    .description('your own containers: deploy one with a GPU and your files, get in, retire it')
    .addHelpText('after', HELP);

  const withDeployOptions = (command: Command) =>
    command
      .argument('<name>', 'what you call it (Docker names it <name>._.<uid>)')
      .option('--image <image>', 'the image (default: your ds01-<user>/<name>, made by `ds01 image create`)')
      .addOption(
        new Option('--gpus <n>', 'how many GPUs (MIG slices count as GPUs); 0: none')
          .argParser(nonNegativeInteger)
          .conflicts('cpuOnly'),
      )
      .option(
        '--profile <profile>',
        'a MIG profile (1g.10gb, 3g.40gb ...) or "full"; `ds01 gpu status` lists them',
      )
      .addOption(new Option('--cpu-only', 'no GPU').conflicts('profile'))
      .option('--project <dir>', 'the folder to mount at /workspace (default: your home)')
      .option('--json', 'what was made, as JSON');

  withDeployOptions(
    container
      .command('deploy')
      .description('create and start a container with a GPU (or MIG slice) and your files at /workspace'),
  )
    .option('--attach', 'attach to its terminal once it runs')
    .addHelpText(
      'after',
      `
Without --gpus, --profile or --cpu-only it asks for one GPU, as ds01-infra's container-deploy did.
Asked for more than you may have, it says what to do next (retire one, a smaller profile, ...) and
exits with ${DENIED_EXIT_CODE}.

Examples:
  ds01 container deploy thesis                               your image ds01-$USER/thesis, one GPU
  ds01 container deploy nb --image ds01-$USER/nb --profile 1g.10gb   a MIG slice
  ds01 container deploy prep --image python:3.12 --cpu-only --project ~/prep
  ds01 container deploy thesis --attach                      and straight into its terminal`,
    )
    .action(async (name: string, options: DeployOptions) => {
      await deploy(context, name, { ...options, start: true });
    });

  withDeployOptions(
    container
      .command('create')
      .description('the same as deploy, without starting it (its GPUs are granted now): start it later'),
  ).action(async (name: string, options: DeployOptions) => {
    await deploy(context, name, { ...options, start: false });
  });

  container
    .command('list')
    .description('your containers, running and stopped, with their GPUs')
    .option('--json', 'the rows as one JSON array')
    .addHelpText(
      'after',
      `
Examples:
  ds01 container list
  ds01 container list --json | jq '.[] | select(.gpus | length > 0) | .name'`,
    )
    .action(async (options: { json?: boolean }) => {
      const session = await userSession(context);
      const rows = (await session.docker.list(true)).map(listRow);
      if (options.json) return context.output.json(rows);
      context.output.table(
        listColumns(new Date()),
        rows,
        '(no containers yet: ds01 container deploy NAME --image IMAGE)',
      );
    });

  container
    .command('start')
    .description('start a stopped container again (it keeps its GPUs while they are held)')
    .argument('<name>', 'your container')
    .action(async (name: string) => {
      const session = await userSession(context);
      const ref = await ownRef(session, name);
      const result = await session.docker.start(ref);
      context.output.line(result === 'already' ? `${name} is running already` : `started ${name}`);
    });

  container
    .command('stop')
    .description('stop a container; its GPUs are held for you for a while (retire frees them at once)')
    .argument('<name>', 'your container')
    .option('-t, --time <seconds>', 'seconds to let it end before it is killed', nonNegativeInteger, 10)
    .action(async (name: string, options: { time: number }) => {
      const session = await userSession(context);
      const ref = await ownRef(session, name);
      const result = await session.docker.stop(ref, options.time);
      context.output.line(
        result === 'already'
          ? `${name} was not running`
          : `stopped ${name}; its GPUs stay yours for your hold time (ds01 container start ${name}), ` +
              `or free them now: ds01 container retire ${name}`,
      );
    });

  container
    .command('retire')
    .description('stop and remove a container and free its GPUs at once (no hold)')
    .argument('<name>', 'your container')
    .option('-t, --time <seconds>', 'seconds to let it end before it is killed', nonNegativeInteger, 10)
    .option('--json', 'what was retired, as JSON')
    .addHelpText(
      'after',
      `
Your files in /workspace stay: they are your home's (or the project folder's). What was installed
inside the container goes with it: put it in your image (ds01 image create) to keep it.

Examples:
  ds01 container retire thesis
  ds01 container retire nb -t 30     give its processes 30 s to save and end`,
    )
    .action(async (name: string, options: { time: number; json?: boolean }) => {
      const session = await userSession(context);
      const ref = await ownRef(session, name);
      const retired = await session.api.post(
        z.object({
          containerId: z.string(),
          name: z.string(),
          stopped: z.boolean(),
          released: z.array(z.string()),
        }),
        `/ds01/v1/containers/${encodeURIComponent(ref)}/retire?t=${options.time}`,
        (options.time + 30) * 1000,
      );
      if (options.json) return context.output.json({ ...retired, name: displayNameOf(retired.name) });
      const gpus = retired.released.length
        ? `; GPU${retired.released.length === 1 ? '' : 's'} ${retired.released.join(', ')} free now`
        : '';
      context.output.line(`retired ${name}: ${retired.stopped ? 'stopped and ' : ''}removed${gpus}`);
    });

  container
    .command('attach')
    .description("its terminal (the container's main process); leave it running with Ctrl-P Ctrl-Q")
    .argument('<name>', 'your container')
    .action(async (name: string) => {
      const session = await userSession(context);
      await dockerCli(context, session, ['attach', await ownRef(session, name)]);
    });

  container
    .command('exec')
    .description('run a command in it (default: a shell), beside its main process')
    .argument('<name>', 'your container')
    .argument('[command...]', 'the command and its arguments (after --)')
    .addHelpText(
      'after',
      `
Examples:
  ds01 container exec thesis                       a shell (bash if the image has it)
  ds01 container exec thesis -- nvidia-smi         one command`,
    )
    .action(async (name: string, command: string[]) => {
      const session = await userSession(context);
      const ref = await ownRef(session, name);
      const tty = process.stdin.isTTY ? ['-it'] : ['-i'];
      const argv = command.length
        ? command
        : ['sh', '-c', 'if command -v bash >/dev/null; then exec bash; else exec sh; fi'];
      await dockerCli(context, session, ['exec', ...tty, ref, ...argv]);
    });

  container
    .command('logs')
    .description('what its main process printed')
    .argument('<name>', 'your container')
    .option('-f, --follow', 'keep printing as it comes (Ctrl-C ends)')
    .option('-n, --tail <lines>', 'only the last lines', positiveInteger)
    .action(async (name: string, options: { follow?: boolean; tail?: number }) => {
      const session = await userSession(context);
      const ref = await ownRef(session, name);
      await dockerCli(context, session, [
        'logs',
        ...(options.follow ? ['--follow'] : []),
        ...(options.tail ? ['--tail', String(options.tail)] : []),
        ref,
      ]);
    });
}

interface DeployOptions {
  image?: string;
  gpus?: number;
  profile?: string;
  cpuOnly?: boolean;
  project?: string;
  attach?: boolean;
  json?: boolean;
  /** false: create only (`ds01 container create`). */
  start?: boolean;
}

export async function deploy(
  context: CliContext,
  name: string,
  options: DeployOptions,
): Promise<ContainerListRow> {
  const problem = containerNameProblem(name);
  if (problem) throw new CliError(problem, { hint: 'for example: ds01 container deploy thesis' });
  const session = await userSession(context);
  const { docker, me } = session;
  const dockerName = dockerNameOf(name, me.uid);
  const workspace = resolve(options.project ?? homedir());
  if (!statSync(workspace, { throwIfNoEntry: false })?.isDirectory()) {
    throw new CliError(`${workspace} is not a folder: it is what /workspace would be`, {
      hint: 'give a folder of yours with --project DIR (ds01 project init DIR makes one)',
    });
  }
  const image = options.image ?? `ds01-${me.user}/${name}:latest`;
  if (!(await docker.imageExists(image))) {
    throw new CliError(`there is no image ${image}`, {
      hint: options.image
        ? 'see the images here with `ds01 image list` (or docker images)'
        : `make it with \`ds01 image create ${name}\`, or name one with --image`,
    });
  }
  if (await docker.idOf(dockerName)) {
    throw new CliError(`you have a container '${name}' already`, {
      hint: `start it (ds01 container start ${name}), or retire it first (ds01 container retire ${name})`,
    });
  }
  const count = options.cpuOnly ? 0 : (options.gpus ?? 1);
  const gpus = count === 0 ? null : { count, profile: options.profile ?? null };
  try {
    await docker.deploy({ dockerName, image, workspace, gpus, start: options.start !== false });
  } catch (error) {
    throw await deployRefusal(session, name, error);
  }
  const row = (await docker.list(true)).map(listRow).find((r) => r.dockerName === dockerName);
  if (!row)
    throw new CliError(`${name} was started but is gone already`, { hint: `ds01 container logs ${name}` });
  if (options.json) context.output.json(row);
  else if (options.start === false) {
    context.output.line(
      `created ${row.name} (Docker: ${row.dockerName}), image ${row.image}, GPU: ${row.gpus.join(', ') || 'none'}`,
    );
    context.output.line(`Start it: ds01 container start ${row.name}`);
  } else printHowToGetIn(context, session, row);
  if (options.attach) await dockerCli(context, session, ['attach', dockerName]);
  return row;
}

function printHowToGetIn(context: CliContext, session: UserSession, row: ContainerListRow): void {
  const out = context.output;
  out.line(`deployed ${row.name} (Docker: ${row.dockerName}), image ${row.image}`);
  out.line(`  GPU:        ${row.gpus.length ? row.gpus.join(', ') : 'none'}`);
  out.line(`  /workspace: ${row.workspace ?? '-'}`);
  out.line();
  out.line('Get in:');
  out.line(`  ds01 container attach ${row.name}        its terminal (leave it running: Ctrl-P Ctrl-Q)`);
  out.line(`  ds01 container exec ${row.name}          a shell beside it`);
  out.line(
    `  VS Code: set "docker.host": "unix://${session.api.socketPath}", then "Dev Containers: Attach to Running Container..." → ${row.dockerName}`,
  );
  out.line(`Done with it: ds01 container retire ${row.name}   (frees the GPU at once)`);
}

/**
 * What a refused deploy tells the user: the gateway's refusal read for what to do next. A GPU
 * denial carries the allocator's reason (its code and numbers); each code has its next step.
 */
async function deployRefusal(session: UserSession, name: string, error: unknown): Promise<unknown> {
  if (!(error instanceof DockerRefusedError)) return error;
  const reason = error.reason;
  if (error.rule === 'gpu-denied' && reason) {
    const withGpus = (await session.docker.list(true).catch(() => [] as UserContainer[]))
      .filter((c) => c.gpus.length > 0)
      .map((c) => displayNameOf(c.dockerName));
    const { message, hint } = gpuDenialNextStep(reason, withGpus);
    return new CliError(`no GPU for ${name}: ${message}`, { hint, exitCode: DENIED_EXIT_CODE, cause: error });
  }
  if (error.rule?.startsWith('create-policy:')) {
    return new CliError(`the server's policy refused ${name}: ${error.message}`, {
      hint: 'ask your admin if your work needs what was refused',
      exitCode: DENIED_EXIT_CODE,
      cause: error,
    });
  }
  const gpuHint = gpuStartFailureHint(error.message);
  if (gpuHint) {
    return new CliError(`${name} got its GPU but Docker cannot start it: ${error.message}`, {
      hint: gpuHint,
      cause: error,
    });
  }
  return new CliError(`could not deploy ${name}: ${error.message}`, { cause: error });
}

/**
 * The Docker reference for a name the user typed: their `<name>._.<uid>` when it exists, else the
 * name as given (a container they made with `docker run --name`, or an id). The gateway decides
 * whether it is theirs; a name that is nobody's of theirs is said so here.
 */
export async function ownRef(session: UserSession, name: string): Promise<string> {
  if (!name.includes(NAME_UID_SEPARATOR) && !containerNameProblem(name)) {
    const mine = dockerNameOf(name, session.me.uid);
    if (await session.docker.idOf(mine)) return mine;
  }
  if (await session.docker.idOf(name)) return name;
  throw new CliError(`you have no container '${name}'`, { hint: 'yours: ds01 container list' });
}

async function dockerCli(context: CliContext, session: UserSession, args: string[]): Promise<void> {
  const code = await runDockerCli(session.api.socketPath, args, context.env);
  if (code !== 0) throw new SilentExit(code);
}

function listRow(c: UserContainer): ContainerListRow {
  return {
    name: displayNameOf(c.dockerName),
    dockerName: c.dockerName,
    id: c.id,
    state: c.state,
    status: c.status,
    image: c.image,
    gpus: c.gpus,
    workspace: c.workspace,
    createdAt: c.createdAt,
  };
}

function listColumns(now: Date): Column<ContainerListRow>[] {
  return [
    { header: 'name', value: (r) => r.name, shrink: true },
    { header: 'state', value: (r) => r.state },
    { header: 'gpus', value: (r) => (r.gpus.length ? String(r.gpus.length) : '-'), align: 'right' },
    { header: 'image', value: (r) => r.image, shrink: true },
    { header: 'workspace', value: (r) => r.workspace ?? '-', shrink: true },
    { header: 'created', value: (r) => relativeTime(r.createdAt, now) },
  ];
}
