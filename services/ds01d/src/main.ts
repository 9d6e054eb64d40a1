import { parseArgs } from 'node:util';
import { loadDs01Config } from '@ds01/config';
import { Ds01Error, formatDs01Error } from '@ds01/errors';
import { runDaemon } from './daemon.ts';
import { createLogger } from './logger.ts';
import { services } from './services.ts';

const USAGE = `Usage: ds01d [--data-dir DIR] [--config-dir DIR]

The DS01 daemon: keeps the read models up to date from the event log and runs DS01's services
(${services.map((s) => s.name).join(', ') || 'none registered yet'}) in one process.
Stop it with SIGTERM or Ctrl-C.

  --data-dir DIR     event store, read models, pid lock (default: $DS01_DATA_DIR, data_dir in
                     ds01.yaml, ./var in a checkout, else /var/lib/ds01)
  --config-dir DIR   ds01.yaml and the lab's configuration (default: $DS01_CONFIG_DIR, ./config
                     in a checkout, else /etc/ds01)
  -h, --help         this help

Logs: JSON lines when stdout is not a terminal, readable lines when it is. DS01_LOG_LEVEL or
log_level in ds01.yaml sets the level (default info). At debug, a "ds01d health" line every
10 s (DS01_HEALTH_INTERVAL_S) gives its memory, open descriptors and event-loop lag.`;

/** Runs ds01d with these arguments until SIGTERM/SIGINT; resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let flags: { 'data-dir'?: string; 'config-dir'?: string; help?: boolean };
  try {
    flags = parseArgs({
      args: [...argv],
      options: {
        'data-dir': { type: 'string' },
        'config-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    process.stderr.write(`ds01d: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let config: ReturnType<typeof loadDs01Config>;
  try {
    config = loadDs01Config({ dataDir: flags['data-dir'], configDir: flags['config-dir'] });
  } catch (error) {
    const text =
      error instanceof Ds01Error
        ? formatDs01Error('ds01d', error)
        : `ds01d: unexpected error reading the configuration: ${(error as Error)?.stack ?? String(error)}`;
    process.stderr.write(`${text}\n`);
    return 1;
  }
  const logger = createLogger(config.logLevel);
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) logger.warn({ signal }, 'already stopping');
    else stop.abort(signal);
  };
  // A bug that escapes a service is logged as one fatal JSON line, then ds01d stops cleanly
  // (services in reverse, store closed, lock released) and exits 1 for systemd to restart it.
  let crashed = false;
  const onCrash = (error: unknown) => {
    crashed = true;
    logger.fatal({ err: error }, `ds01d crashed: ${(error as Error)?.message ?? String(error)}`);
    if (!stop.signal.aborted) stop.abort('crash');
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  try {
    await runDaemon({
      config,
      logger,
      services,
      signal: stop.signal,
      healthIntervalMs: healthIntervalMs(process.env['DS01_HEALTH_INTERVAL_S']),
    });
    logger.info('ds01d stopped');
    return crashed ? 1 : 0;
  } catch (error) {
    const hint = error instanceof Ds01Error ? error.hint : undefined;
    logger.fatal(
      { err: error, ...(hint ? { hint } : {}) },
      `ds01d could not run: ${(error as Error).message}`,
    );
    return 1;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
  }
}

/** DS01_HEALTH_INTERVAL_S in ms; unset or not a positive number: the default. */
function healthIntervalMs(seconds: string | undefined): number | undefined {
  const value = Number(seconds);
  return seconds && Number.isFinite(value) && value > 0 ? value * 1000 : undefined;
}
