import { expect, it } from 'vitest';
import { collect } from '../contract/eventStoreContract.ts';
import { type Fixture, startFixture } from './childProcess.ts';
import { createLog, describeForEachStore } from './faultTargets.ts';

const WORKERS = 4;

/** Starts the workers, waits until all are ready, then lets them go at once. */
async function runTogether(workers: Fixture[]): Promise<void> {
  await Promise.all(workers.map((worker) => worker.waitForLine((line) => line === 'ready')));
  for (const worker of workers) worker.send('go');
  const codes = await Promise.all(workers.map((worker) => worker.exited));
  expect(codes, workers.map((worker) => worker.stderr()).join('\n')).toEqual(workers.map(() => 0));
}

describeForEachStore('several processes writing to one stream', (target) => {
  it('with exact expected revisions: exactly one wins each revision, every loser is told why', async () => {
    const path = target.newLog('contended');
    // Created before the workers start, so that they contend for revisions, not for creating the log.
    await createLog(target, path);
    const attempts = 50;
    const workers = Array.from({ length: WORKERS }, (_, i) =>
      startFixture('contendedAppends', [path, 'gpu-pool-host1', String(attempts), `w${i}`]),
    );
    await runTogether(workers);

    const outcomes = workers.flatMap((worker) => worker.lines).filter((line) => line !== 'ready');
    expect(outcomes).toHaveLength(WORKERS * attempts);
    const wins = outcomes.filter((line) => line.startsWith('won ')).map((line) => Number(line.split(' ')[1]));
    const losses = outcomes.filter((line) => line.startsWith('lost '));
    expect(wins.length + losses.length).toBe(WORKERS * attempts);
    expect(losses.length, 'no contention: the test would prove nothing').toBeGreaterThan(0);
    expect([...wins].sort((a, b) => a - b)).toEqual(wins.map((_, i) => i));
    for (const loss of losses) {
      const [, expected, actual] = loss.split(' ');
      expect(Number(actual)).toBeGreaterThan(expected === 'no_stream' ? -1 : Number(expected));
    }

    const store = target.open(path);
    const events = await collect(store.readStream('gpu-pool-host1'));
    expect(events.map((event) => event.revision)).toEqual(wins.map((_, i) => i));
    await store.close();
  }, 60_000);

  it('through CommandHandler: every command is applied exactly once, whatever the interleaving', async () => {
    const path = target.newLog('commands');
    await createLog(target, path);
    const commands = Array.from({ length: 30 }, (_, i) => `command-${i}`);
    const workers = Array.from({ length: WORKERS }, (_, i) => {
      // Each worker runs every command, starting at a different point of the list.
      const order = [...commands.slice(i * 7), ...commands.slice(0, i * 7)];
      return startFixture('commandWorker', [path, 'gpu-pool-host1', `w${i}`, order.join(',')]);
    });
    await runTogether(workers);

    for (const worker of workers)
      expect(worker.lines.filter((line) => line.startsWith('handled '))).toHaveLength(30);
    const retries = workers
      .flatMap((worker) => worker.lines)
      .filter((line) => line.startsWith('handled '))
      .map((line) => Number(line.split(' ')[2]));
    const store = target.open(path);
    const events = await collect(store.readStream('gpu-pool-host1'));
    const applied = events.map((event) => (event.data as { item: string }).item);
    expect([...applied].sort()).toEqual([...commands].sort());
    expect(events.map((event) => event.revision)).toEqual(commands.map((_, i) => i));
    // Contention happened (some decisions were retried), or this test proves less than it says.
    expect(retries.some((r) => r > 0)).toBe(true);
    await store.close();
  }, 60_000);
});
