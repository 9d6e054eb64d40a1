import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanupTestRun, describeWithDocker } from '../support/docker.ts';
import { PrivateDockerd } from '../support/privateDockerd.ts';
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
  // A dockerd of its own: dockerd replays only its last 256 events (of every type), and the suites beside
  // it on the shared one would fill that ring while ds01d is down, so that what this harness's containers
  // did then could not be replayed (the watcher records that as DockerHistoryMissed; the containers that
  // came and went in the gap are lost, which the harness would rightly report).
  const dockerd = new PrivateDockerd(`faults-${td.runId}`);
  beforeAll(async () => {
    await dockerd.start();
    await dockerd.loadImageFrom(td);
  }, 120_000);
  afterAll(async () => {
    await dockerd.destroy();
    await cleanupTestRun(td);
  }, 120_000);

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
      dockerHost: dockerd.host,
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
