import { firstLine, runDs01 } from './cli.ts';
import type { AllocateRecord, CommandOutcome, Ledger, ReleaseRecord } from './ledger.ts';
import type { SeededRandom } from './random.ts';
import type { Site } from './site.ts';

/** What users ask for: mostly any device (a MIG slot first), sometimes a profile or a whole GPU. */
const PROFILES = [null, null, '1g.10gb', '2g.20gb', '3g.40gb', 'full'] as const;

export interface UserLoadOptions {
  site: Site;
  ledger: Ledger;
  random: SeededRandom;
  /** Chance that a command is SIGKILLed mid-way. */
  cliKillChance: number;
  /** Until when a kill may land: a command's start-up (ms) is most of its life. */
  cliKillWindowMs: [number, number];
  stopped: () => boolean;
}

/**
 * One user's loop of `ds01 gpu allocate` then `ds01 gpu release`, each for a made-up container id
 * of its own, so that every command's events can be told apart on the log, even a killed one's.
 * A release is repeated until it gets an answer (a killed or failed one may or may not have
 * happened), as a person would run it again.
 */
export async function userLoop(user: string, options: UserLoadOptions): Promise<void> {
  const { random, stopped } = options;
  while (!stopped()) {
    // A person's pause between commands; it also leaves a 2-core machine some room for ds01d.
    await new Promise((resolve) => setTimeout(resolve, random.between(100, 600)));
    const containerId = random.hex(64);
    const profile = random.pick(PROFILES);
    const allocation = await allocate(user, containerId, profile, options);
    if (allocation.answer && !allocation.answer.granted) continue;
    for (let tries = 0; tries < 20 && !stopped(); tries++) {
      const release = await releaseOnce(user, containerId, options);
      if (release.outcome === 'acknowledged') break;
    }
  }
}

async function allocate(
  user: string,
  containerId: string,
  profile: string | null,
  options: UserLoadOptions,
): Promise<AllocateRecord> {
  // Random ids of containers that do not exist: as root with --force (each override recorded).
  const args = ['gpu', 'allocate', '--user', user, '--container', containerId, '--force', '--json'];
  if (profile) args.push('--profile', profile);
  const result = await runDs01(options.site, args, killPlan(options));
  const record: AllocateRecord = { kind: 'allocate', user, containerId, outcome: outcomeOf(result, [0, 3]) };
  if (record.outcome === 'acknowledged') {
    const decision = JSON.parse(result.stdout) as {
      granted: boolean;
      requestId: string;
      slots?: { slot: string }[];
    };
    record.answer = {
      granted: decision.granted,
      requestId: decision.requestId,
      slots: (decision.slots ?? []).map((s) => s.slot),
    };
  } else if (record.outcome === 'failed') {
    record.error = firstLine(result.stderr);
  }
  note(options.ledger, record);
  return record;
}

async function releaseOnce(
  user: string,
  containerId: string,
  options: UserLoadOptions,
): Promise<ReleaseRecord> {
  const result = await runDs01(
    options.site,
    ['gpu', 'release', '--container', containerId, '--json'],
    killPlan(options),
  );
  const record: ReleaseRecord = { kind: 'release', user, containerId, outcome: outcomeOf(result, [0]) };
  if (record.outcome === 'acknowledged') {
    const outcome = JSON.parse(result.stdout) as { released: { slot: string }[] };
    record.released = outcome.released.map((r) => r.slot);
  } else if (record.outcome === 'failed' && /holds no GPU: nothing was released/.test(result.stderr)) {
    // A definite answer too: the log, as this command read it, had no slot for the container.
    record.outcome = 'acknowledged';
    record.released = [];
  } else if (record.outcome === 'failed') {
    record.error = firstLine(result.stderr);
  }
  note(options.ledger, record);
  return record;
}

function killPlan(options: UserLoadOptions): { killAfterMs?: number } {
  if (!options.random.chance(options.cliKillChance)) return {};
  const [from, to] = options.cliKillWindowMs;
  return { killAfterMs: options.random.between(from, to) };
}

function outcomeOf(result: { code: number | null; killed: boolean }, answers: number[]): CommandOutcome {
  if (result.killed) return 'killed';
  return result.code !== null && answers.includes(result.code) ? 'acknowledged' : 'failed';
}

function note(ledger: Ledger, record: AllocateRecord | ReleaseRecord): void {
  ledger.commands.push(record);
  if (record.outcome === 'killed') ledger.cliKills += 1;
}
