import { Command, CommanderError } from 'commander';
import { commandGroups } from './commands/index.ts';
import { legacyCommand } from './commands/legacyNames.ts';
import { CliContext, type GlobalOptions } from './context.ts';
import { CliError, describeError, SilentExit } from './errors.ts';
import { CommandStoppedError, STOP_EXIT_CODES } from './interruption.ts';
import type { Output } from './output/output.ts';
import { terminalSafe } from './output/terminalText.ts';

const ABOUT =
  'DS01 manages a shared multi-user GPU server. Everything that happens on it (a container starts, ' +
  'a GPU is allocated, a user leaves) is recorded as an event in an append-only log; every view ds01 ' +
  'shows is derived from that log and can be rebuilt from it.';

const EXAMPLES = `
Your own work (as yourself, through your DS01 socket):
  A project: Dockerfile, dev container, README  ds01 project init ~/thesis
  Build its image and run it with a GPU       ds01 project launch ~/thesis
  A container of an image, with a MIG slice   ds01 container deploy nb --image ds01-$USER/nb --profile 1g.10gb
  Into it; then done, the GPU freed at once   ds01 container attach thesis; ds01 container retire thesis
  Your image from a base with packages        ds01 image create thesis --packages numpy pandas

Common tasks:
  Containers on this host and their owners  ds01 containers --all
  One container's whole history             ds01 containers show my-notebook
  Who holds which GPU, and each user's quota ds01 gpu status
  Who held slot 1.3 at a past moment        ds01 gpu who --at "2026-03-02 14:30" --slot 1.3
  Give a user a MIG slice                   ds01 gpu allocate --user alice --profile 1g.10gb
  Check the lab's limits and one user's     ds01 config check --user alice
  Watch what happens, live                  ds01 events tail --follow
  The last 50 events of one container       ds01 events tail -n 50 --stream container-3f2a
  Only GPU allocations, as JSON lines       ds01 events tail --type GpuAllocated --json
  GPU-hours, efficiency, CO2 by user (30d)  ds01 usage
  The lab's year, month by month            ds01 usage --period 1y --by month
  What happened to alice this week, and why ds01 audit --user alice --since "7d ago"
  Prove the log was not changed             ds01 audit verify
  How big the log is, how far views are     ds01 store stats
  List the views (projections)              ds01 projections list
  Rebuild every view from the log           ds01 projections rebuild --all

Where DS01 keeps things:
  data dir    --data-dir > $DS01_DATA_DIR > data_dir in ds01.yaml > ./var in a checkout, else /var/lib/ds01
  config dir  --config-dir > $DS01_CONFIG_DIR > ./config in a checkout, else /etc/ds01
  event store $DS01_EVENTSTORE_URL > event_store in ds01.yaml > <data dir>/events.db

Exit codes: 0 done (also when the reader of the output stops early, as \`| head\` does), 1 an error
or a wrong option (the message says what to do), 3 denied (gpu allocate, container deploy, image
create), 4 audit verify found the log changed, 130 Ctrl-C, 143 SIGTERM.

Every read command takes --json. Add --debug to see the stack of an error.
Help on one command: ds01 help <command>, e.g. ds01 help events tail`;

/** Builds the `ds01` program with every registered command group. */
export function buildProgram(context: CliContext): Command {
  const program = new Command('ds01')
    .description(ABOUT)
    .option('--data-dir <dir>', 'where the event store and read models live')
    .option('--config-dir <dir>', 'where ds01.yaml and the resource limits live')
    .option('--debug', 'print stacks of errors')
    .showSuggestionAfterError()
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true })
    .addHelpText('after', EXAMPLES)
    .exitOverride();
  for (const group of commandGroups) group.register(program, context);
  return program;
}

/** Runs `ds01` with these arguments; resolves to the exit code. Never throws. */
export async function main(
  argv: readonly string[],
  options: { output?: Output; env?: Record<string, string | undefined> } = {},
): Promise<number> {
  let program: Command | undefined;
  const globalOptions = (): GlobalOptions => (program?.opts() as GlobalOptions | undefined) ?? {};
  const context = new CliContext(globalOptions, options);
  program = buildProgram(context);
  const stopListening = context.interruption.listen(context.output.stream);
  try {
    await program.parseAsync(legacyCommand(argv), { from: 'user' });
    const stopped = context.interruption.reason;
    return stopped ? STOP_EXIT_CODES[stopped] : 0;
  } catch (error) {
    // Stopped on request (Ctrl-C, SIGTERM, `| head`): the command said what it had to; no error.
    if (error instanceof CommandStoppedError) return error.exitCode;
    if (error instanceof CommanderError) {
      // Commander has printed the help or the error already ('did you mean ...' included).
      return error.exitCode;
    }
    if (error instanceof SilentExit) return error.exitCode;
    process.stderr.write(
      `${terminalSafe(describeError(error, context.debug || argv.includes('--debug')))}\n`,
    );
    return error instanceof CliError ? error.exitCode : 1;
  } finally {
    stopListening();
    await context.close();
  }
}
