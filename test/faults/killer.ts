import { DaemonDidNotStartError, type DaemonProcess } from './daemon.ts';
import type { SeededRandom } from './random.ts';

export interface KillerOptions {
  daemon: DaemonProcess;
  random: SeededRandom;
  kills: number;
  /** How long ds01d runs under load after "ready" before a kill (ms, drawn uniformly). */
  runMs: [number, number];
  /** Chance that a kill lands during start-up instead (catch-up, reconciliation), and when (ms after spawn). */
  startUpKillChance: number;
  startUpKillMs: [number, number];
  /** Called while ds01d is down after kill N (the checks); the load goes on meanwhile. */
  whileDown: (kill: number) => Promise<void>;
  /** Ends the kills early (a load loop failed). */
  stopped: () => boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts ds01d and SIGKILLs it at random moments, `kills` times: mostly once it is ready and under
 * load, sometimes during its start-up. ds01d is down when this returns. Returns the kills made.
 */
export async function killDaemonRepeatedly(options: KillerOptions): Promise<number> {
  const { daemon, random } = options;
  let kills = 0;
  while (kills < options.kills && !options.stopped()) {
    const ready = daemon.start();
    if (random.chance(options.startUpKillChance)) {
      const settled = ready.then(
        () => undefined,
        () => undefined,
      );
      await Promise.race([settled, sleep(random.between(...options.startUpKillMs))]);
    } else {
      await ready;
      await sleep(random.between(...options.runMs));
    }
    await daemon.kill();
    await ready.catch((error: unknown) => {
      // Killed before it was ready: that was the plan. Any other failure to start is a finding.
      if (!(error instanceof DaemonDidNotStartError && error.killedByHarness)) throw error;
    });
    kills += 1;
    await options.whileDown(kills);
  }
  return kills;
}
