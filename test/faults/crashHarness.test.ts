import { afterAll, expect, it } from 'vitest';
import { cleanupTestRun, describeWithDocker } from '../support/docker.ts';
import { runFaults } from './harness.ts';
import { SeededRandom } from './random.ts';
import { failed, formatReport } from './report.ts';

/**
 * The crash harness's short form (the long one: `npm run faults -- --kills 200`): 20 SIGKILLs of
 * ds01d under CLI and Docker load, CLI commands killed too, checked after every kill and at the end.
 * DS01_FAULTS_SEED replays a run's choices (the seed is in the report). 60-140 s on a loaded 2-core
 * machine, most of it ds01d's start-ups; the timeout leaves room for the whole suite beside it.
 */
const seed = process.env['DS01_FAULTS_SEED']
  ? Number(process.env['DS01_FAULTS_SEED'])
  : SeededRandom.newSeed();

describeWithDocker('crash harness (short form)', (td) => {
  afterAll(() => cleanupTestRun(td));

  it('loses nothing acknowledged and records nothing twice across 20 kills of ds01d', {
    timeout: 300_000,
  }, async () => {
    const report = await runFaults({
      seed,
      kills: 20,
      users: 3,
      cliKillChance: 0.15,
      runMs: [100, 800],
      startUpKillChance: 0.5,
      settleMs: 10_000,
      dockerHost: td.host,
      image: td.image,
      runId: td.runId,
    });
    const table = formatReport(report, {
      replay: `DS01_FAULTS_SEED=${seed} npx vitest run test/faults/crashHarness.test.ts`,
    });
    console.log(table);
    expect(report.daemonKills).toBe(20);
    expect(report.acknowledged).toBeGreaterThan(0);
    expect(failed(report), table).toBe(false);
  });
});
