import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
// By path, not through @ds01/host's index: that would load dockerode into every `ds01` command.
import { gatewaySection } from './gatewayConfig.ts';
import { gpusSection } from './gpusConfig.ts';
import { imagesSection } from './imagesConfig.ts';
import { lifecycleSection } from './lifecycleConfig.ts';
import { notificationsSection } from './notificationsConfig.ts';
import { observabilitySections } from './observabilityConfig.ts';
import { telemetrySection } from './telemetryConfig.ts';
import { ConfigError, readYamlFile } from './yamlFile.ts';

/**
 * DS01's own configuration: where its data and configuration live, which event store it uses,
 * how much it logs. Read from `<config dir>/ds01.yaml` (optional: every key has a default).
 *
 * The schema is composed of sections, one per concept, each a `{ key: schema }` object. A concept
 * that needs its own section (e.g. `gpus`) defines it in its own file and adds it to `sections`
 * below; everything else (unknown keys rejected with file:line and the nearest key) follows.
 */

const LogLevel = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

/** The core section: identity of the host, where the log and the data are, logging. */
export const coreSection = {
  /** Name of this host in events and stream names (gpu-pool-<host>). Default: os.hostname(). */
  host: z.string().min(1).optional(),
  /** Where the event store, read models and lock files live. Relative: to the config dir. */
  data_dir: z.string().min(1).optional(),
  event_store: z
    .strictObject({
      /**
       * A PostgreSQL (postgres://user@host/db?schema=ds01) or EventStoreDB/KurrentDB
       * (kurrentdb://host:2113?tls=false) connection string; when absent, the embedded SQLite store.
       */
      url: z
        .string()
        .regex(
          /^((esdb|kurrentdb|kdb)(\+discover)?|postgres|postgresql):\/\//,
          'must be a connection string like postgres://ds01@db-host/ds01 or kurrentdb://host:2113?tls=false',
        )
        .optional(),
      /** File of the embedded store. Default: <data dir>/events.db. Relative: to the config dir. */
      path: z.string().min(1).optional(),
    })
    // A section whose keys are all commented out reads as null: same as absent.
    .nullish(),
  log_level: LogLevel.optional(),
};

/** Every section of ds01.yaml. Add a concept's section here (one spread per concept). */
const sections = {
  ...coreSection,
  ...gpusSection,
  ...gatewaySection,
  ...imagesSection,
  ...telemetrySection,
  ...lifecycleSection,
  ...notificationsSection,
  ...observabilitySections,
};

export const Ds01Yaml = z.strictObject(sections);
export type Ds01Yaml = z.infer<typeof Ds01Yaml>;
export type LogLevel = z.infer<typeof LogLevel>;

/** Where DS01 keeps things, all resolved to absolute paths. */
export interface Ds01Paths {
  /** Root of the git checkout DS01 runs from, or null when installed. */
  checkoutRoot: string | null;
  dataDir: string;
  configDir: string;
  /** `<config dir>/ds01.yaml` (it need not exist). */
  configFile: string;
  /** The read models (projections/runner). */
  projectionsDb: string;
  /** ds01d's pid lock: one daemon per data dir. */
  daemonLock: string;
}

export interface Ds01Config {
  paths: Ds01Paths;
  host: string;
  logLevel: LogLevel;
  /** What openEventStore (@ds01/event-store) takes: a url wins over the embedded store's path. */
  eventStore: { url: string | undefined; path: string };
  /** The whole validated ds01.yaml, for sections other concepts add. */
  yaml: Ds01Yaml;
}

/** What the caller knows: flags from the command line and the environment. */
export interface Ds01ConfigInput {
  dataDir?: string | undefined;
  configDir?: string | undefined;
  env?: Record<string, string | undefined>;
  /** Where relative flags are resolved. Default: process.cwd(). */
  cwd?: string;
  /** The checkout DS01 runs from; default: found from this file's location (null when installed). */
  checkoutRoot?: string | null;
}

export const INSTALLED_DATA_DIR = '/var/lib/ds01';
export const INSTALLED_CONFIG_DIR = '/etc/ds01';

/**
 * Resolves DS01's configuration:
 * - config dir: --config-dir > DS01_CONFIG_DIR > `<checkout>/config` > /etc/ds01;
 * - data dir: --data-dir > DS01_DATA_DIR > data_dir in ds01.yaml > `<checkout>/var` > /var/lib/ds01;
 * - event store: DS01_EVENTSTORE_URL > event_store.url > event_store.path > `<data dir>/events.db`.
 * Throws ConfigError naming file:line for a ds01.yaml that does not validate.
 */
export function loadDs01Config(input: Ds01ConfigInput = {}): Ds01Config {
  const env = input.env ?? process.env;
  const cwd = input.cwd ?? process.cwd();
  const checkoutRoot = input.checkoutRoot === undefined ? findCheckoutRoot() : input.checkoutRoot;
  const configDir = resolve(
    cwd,
    input.configDir ||
      env['DS01_CONFIG_DIR'] ||
      (checkoutRoot ? join(checkoutRoot, 'config') : INSTALLED_CONFIG_DIR),
  );
  const configFile = join(configDir, 'ds01.yaml');
  const yaml: Ds01Yaml = existsSync(configFile) ? readYamlFile(configFile, Ds01Yaml) : {};
  const dataDir = resolve(
    cwd,
    input.dataDir ||
      env['DS01_DATA_DIR'] ||
      (yaml.data_dir ? resolve(configDir, yaml.data_dir) : '') ||
      (checkoutRoot ? join(checkoutRoot, 'var') : INSTALLED_DATA_DIR),
  );
  const logLevel = parseLogLevel(env['DS01_LOG_LEVEL'], yaml.log_level);
  return {
    paths: {
      checkoutRoot,
      dataDir,
      configDir,
      configFile,
      projectionsDb: join(dataDir, 'projections.db'),
      daemonLock: join(dataDir, 'ds01d.pid'),
    },
    host: yaml.host ?? hostname(),
    logLevel,
    eventStore: {
      url: env['DS01_EVENTSTORE_URL'] || yaml.event_store?.url,
      path: yaml.event_store?.path ? resolve(configDir, yaml.event_store.path) : join(dataDir, 'events.db'),
    },
    yaml,
  };
}

function parseLogLevel(fromEnv: string | undefined, fromYaml: LogLevel | undefined): LogLevel {
  if (!fromEnv) return fromYaml ?? 'info';
  const parsed = LogLevel.safeParse(fromEnv);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    [
      {
        file: 'environment',
        line: 0,
        column: 0,
        key: 'DS01_LOG_LEVEL',
        message: `'${fromEnv}' is not a log level (${LogLevel.options.join(', ')})`,
      },
    ],
    'unset DS01_LOG_LEVEL or give it one of the levels',
  );
}

/**
 * The git checkout this code runs from: the nearest folder above this file holding `.git` and the
 * root package.json of DS01. Null when DS01 is installed (no checkout around it).
 */
export function findCheckoutRoot(from: string = import.meta.dirname): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.git')) && isDs01Root(dir)) return dir;
    if (dirname(dir) === dir) return null;
  }
}

function isDs01Root(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'ds01';
  } catch {
    return false;
  }
}
