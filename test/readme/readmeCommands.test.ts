import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanupTestRun, createTestContainer, describeWithDocker, uniqueName } from '../support/docker.ts';
import { type FreshClone, freshClone } from '../support/freshClone.ts';
import { shellCommands } from './shellBlocks.ts';

/**
 * The README's commands work as written for a new user: every command of its ```sh blocks runs in a
 * fresh clone of this checkout's HEAD (dependencies borrowed, nothing downloaded) with a fresh data dir
 * (the clone's ./var), in the README's order, on the system's Node.js when it has one (the commands
 * must bootstrap Node 24 themselves), and exits 0. A command the README adds is run like the others:
 * one that cannot run here must be listed below with the reason.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** Commands not run, and why. */
const NOT_RUN: Record<string, string> = {
  'scripts/test.sh': 'this is the command running the check (it would run itself)',
  'docker compose -f infra/eventstoredb/docker-compose.yml up -d':
    'needs the eventstore/eventstore image: no image registry can be reached here',
  "DS01_EVENTSTORE_URL='esdb://localhost:2113?tls=false' scripts/start.sh":
    'needs the EventStoreDB server of the line above (its adapter has its own contract suite)',
  'createuser ds01 && createdb --owner ds01 ds01':
    "runs on the lab's database server as its postgres user; the test cluster is made by scripts/lib/services.sh",
  "DS01_EVENTSTORE_URL='postgres://ds01@db-host/ds01' scripts/start.sh":
    'needs the database server db-host; ds01d on PostgreSQL is run by test/hosts and test/storage/postgresRestart',
  'docker-compose -f infra/monitoring/docker-compose.yml up -d':
    "needs the prom/*, grafana and dcgm-exporter images: no image registry can be reached here (test/monitoring/ runs the same configuration with Debian's prometheus, alertmanager and node exporter)",
};

/** Commands run in a shorter form that still runs the same code, and why. */
const QUICK_FORM: Record<string, { run: string; why: string }> = {
  'npm run bench': {
    run: 'npm run bench -- --quick',
    why: 'the full benches take minutes and rewrite BENCHMARKS.md',
  },
  'npx ds01 import ds01-infra-events /var/log/ds01/events.jsonl': {
    run: 'npx ds01 import ds01-infra-events packages/cli/test/fixtures/ds01-infra/events.jsonl',
    why: "no ds01-infra runs here: the same command on a file ds01-infra's own writer made",
  },
  'npx ds01 --data-dir var/demo simulate --users 200 --days 365': {
    run: 'npx ds01 --data-dir var/demo simulate --users 5 --days 2',
    why: 'a year of 200 users is 3 million events: minutes; two days of five users run the same code',
  },
  'npm run soak -- --minutes 10': {
    run: 'npm run soak -- --minutes 0.5',
    why: '10 minutes is beyond the CI budget',
  },
  'npm run faults -- --kills 200': {
    run: 'npm run faults -- --kills 2',
    why: 'the same harness with 2 kills: 200 take over ten minutes (a 20-kill form runs in the suite)',
  },
  'npx ds01 store backup /var/backups/ds01/ --keep 14': {
    run: 'npx ds01 store backup var/backups/ --keep 14',
    why: "/var/backups is the host's: the check writes into the clone",
  },
  'npx ds01 user add alice --group researcher': {
    run: 'npx ds01 user add root --group researcher',
    why: 'the machine running the check has no account alice; root is an account every machine has',
  },
  "npm run test:repeat -- --times 50 services/docker-watcher/test/watcherResilience.test.ts -t 'killed with -9'":
    {
      run: 'npm run test:repeat -- --times 2 packages/domain/test/policy/policyDecider.test.ts',
      why: 'the same command, twice on a fast file: 50 runs of the kill -9 test take many minutes',
    },
};

/** Daemons: started, seen ready in their log, stopped with SIGTERM, expected to exit 0. */
const DAEMONS = new Set(['scripts/start.sh']);

/** Followers print until interrupted: started, seen following, stopped with Ctrl-C (SIGINT to the group). */
const FOLLOWERS = new Set(['npx ds01 events tail --follow']);

/** Placeholders of the README, filled with what exists in this run (BACKUP: the newest backup made above). */
const placeholders = (containerName: string, cloneDir: string): Record<string, string> => {
  const backups = join(cloneDir, 'var', 'backups');
  const newest = existsSync(backups)
    ? readdirSync(backups)
        .filter((f) => f.endsWith('.db'))
        .sort()
        .at(-1)
    : undefined;
  return { NAME: containerName, BACKUP: newest ? join('var', 'backups', newest) : 'BACKUP' };
};

const commands = shellCommands(README);

it('the README has commands, and every command listed here is still in it', () => {
  expect(commands.length).toBeGreaterThan(5);
  const inReadme = new Set(commands.map((c) => c.command));
  const listed = [...Object.keys(NOT_RUN), ...Object.keys(QUICK_FORM), ...DAEMONS, ...FOLLOWERS];
  expect(listed.filter((command) => !inReadme.has(command))).toEqual([]);
});

describeWithDocker('the README', (td) => {
  let clone: FreshClone;
  let containerName: string;
  const running = new Set<ChildProcess>();

  beforeAll(async () => {
    clone = freshClone(ROOT);
    containerName = uniqueName(td, 'readme');
    await createTestContainer(td, { name: containerName, start: true });
  });
  afterAll(async () => {
    for (const child of running) if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    clone?.remove();
    await cleanupTestRun(td);
  });

  const env = (): NodeJS.ProcessEnv => {
    const vars = Object.fromEntries(
      Object.entries(process.env).filter(
        ([key]) => !/^(VITEST|VITE_|__VITEST|DS01_(DATA_DIR|CONFIG_DIR|EVENTSTORE_URL)$)/.test(key),
      ),
    );
    return { ...vars, PATH: systemPath(), DOCKER_HOST: td.host, COLUMNS: '160' };
  };

  for (const { command, line } of commands) {
    const notRun = NOT_RUN[command];
    if (notRun !== undefined) {
      it.skip(`README:${line} \`${command}\` is not run: ${notRun}`, () => {});
      continue;
    }
    const quick = QUICK_FORM[command];
    const title = `README:${line} \`${command}\`${quick ? ` (as \`${quick.run}\`: ${quick.why})` : ''}`;
    const script = () => fill(quick?.run ?? command, placeholders(containerName, clone.dir));

    if (DAEMONS.has(command)) {
      it(`${title}: starts, is ready, stops on SIGTERM with exit 0`, { timeout: 240_000 }, async () => {
        const child = start(script(), clone.dir, env(), running);
        await child.waitFor('ds01d ready', 180_000);
        process.kill(child.process.pid!, 'SIGTERM');
        const end = await child.exit(60_000, 'ds01d to exit after SIGTERM');
        expect(end, child.output()).toEqual({ code: 0, signal: null });
        expect(child.output()).toContain('ds01d stopped');
      });
    } else if (FOLLOWERS.has(command)) {
      it(`${title}: follows until Ctrl-C`, { timeout: 120_000 }, async () => {
        const child = start(script(), clone.dir, env(), running);
        // Its first page is the log's last events: the daemon above left some.
        await child.waitFor('\n', 60_000);
        process.kill(-child.process.pid!, 'SIGINT');
        const end = await child.exit(30_000, 'the follower to exit after Ctrl-C');
        // npx re-raises the signal its child ended on; ds01 itself exits 0 or 130 on Ctrl-C.
        const interrupted = end.signal === 'SIGINT' || end.code === 0 || end.code === 130;
        expect(interrupted, `${JSON.stringify(end)}\n${child.output()}`).toBe(true);
      });
    } else {
      it(`${title}: exits 0`, { timeout: 240_000 }, async () => {
        const child = start(script(), clone.dir, env(), running);
        const end = await child.exit(200_000, `\`${script()}\` to finish`);
        expect(end, child.output()).toEqual({ code: 0, signal: null });
      });
    }
  }
});

/** The PATH a new user has: without this checkout's Node 24 and node_modules/.bin, when the system has a node. */
function systemPath(): string {
  const entries = (process.env['PATH'] ?? '').split(delimiter);
  const system = entries.filter(
    (entry) => !entry.includes('/.tools/node/') && !entry.includes('node_modules'),
  );
  const hasNode = system.some((entry) => existsSync(join(entry, 'node')));
  return (hasNode ? system : entries).join(delimiter);
}

function fill(command: string, values: Record<string, string>): string {
  return command.replace(/\b[A-Z]{3,}\b/g, (word) => values[word] ?? word);
}

interface Started {
  process: ChildProcess;
  output(): string;
  waitFor(text: string, timeoutMs: number): Promise<void>;
  exit(timeoutMs: number, what: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `script` with bash in its own process group (as a terminal would: Ctrl-C reaches the group). */
function start(script: string, cwd: string, env: NodeJS.ProcessEnv, running: Set<ChildProcess>): Started {
  const child = spawn('bash', ['-c', script], {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk;
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  const tail = () => output.split('\n').slice(-40).join('\n');
  return {
    process: child,
    output: tail,
    async waitFor(text, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!output.includes(text)) {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(
            `\`${script}\` exited (${child.signalCode ?? child.exitCode}) before it printed "${text.trim() || 'a line'}":\n${tail()}`,
          );
        }
        if (Date.now() > deadline) {
          throw new Error(
            `waited ${timeoutMs / 1000} s for \`${script}\` to print "${text.trim() || 'a line'}":\n${tail()}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async exit(timeoutMs, what) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`waited ${timeoutMs / 1000} s for ${what}:\n${tail()}`)),
          timeoutMs,
        );
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
