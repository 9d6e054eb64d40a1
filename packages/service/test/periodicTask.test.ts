import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PeriodicTask } from '../src/periodicTask.ts';

/** A run that ends only when the test says so, to see what happens while it is in flight. */
function controllableRun() {
  const started: (() => void)[] = [];
  const run = vi.fn(
    () =>
      new Promise<void>((resolve) => {
        started.push(resolve);
      }),
  );
  return { run, finish: () => started.shift()?.() };
}

describe('PeriodicTask', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('joins a run asked for while one is in flight instead of starting a second', async () => {
    const { run, finish } = controllableRun();
    const task = new PeriodicTask(run, 1_000);
    const first = task.runOnce();
    const second = task.runOnce();
    expect(second).toBe(first);
    expect(run).toHaveBeenCalledTimes(1);
    finish();
    await first;
    void task.runOnce();
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('starts the next run an interval after the last one ended, however long it took', async () => {
    const { run, finish } = controllableRun();
    const task = new PeriodicTask(run, 1_000);
    task.start(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(run).toHaveBeenCalledTimes(1);
    // A slow run: five intervals pass and no second run piles up behind it.
    await vi.advanceTimersByTimeAsync(5_000);
    expect(run).toHaveBeenCalledTimes(1);
    finish();
    await vi.advanceTimersByTimeAsync(999);
    expect(run).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(run).toHaveBeenCalledTimes(2);
    finish();
    await task.stop();
  });

  it('stop waits for the run in flight and no run follows it', async () => {
    const { run, finish } = controllableRun();
    const task = new PeriodicTask(run, 1_000);
    task.start(0);
    await vi.advanceTimersByTimeAsync(0);
    let stopped = false;
    const stopping = task.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    finish();
    await stopping;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(run).toHaveBeenCalledTimes(1);
  });
});
