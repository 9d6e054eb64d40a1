import fc from 'fast-check';
import type { ContainerHistory, Operation } from './dockerModel.ts';

/** Generated container histories for the model dockerd (times in µs). */

export const MS = 1000;

interface RunShape {
  gap: number;
  startDelay: number;
  /** µs from the start's state change to the process's exit; null: still running at the end. */
  exitAfter: number | null;
  dieDelay: number;
  paused: boolean;
}

const runShape: fc.Arbitrary<RunShape> = fc.record({
  // dockerd starts a container again only after it published the last die: StartedAt > the die event.
  gap: fc.integer({ min: 1, max: 60 * MS }),
  startDelay: fc.integer({ min: 1, max: 3 * MS }),
  // Often at once: a process that exits before dockerd publishes its start is the hard case.
  exitAfter: fc.option(fc.oneof(fc.integer({ min: 0, max: 2 * MS }), fc.integer({ min: 0, max: 40 * MS })), {
    freq: 5,
  }),
  dieDelay: fc.integer({ min: 2, max: 3 * MS }),
  paused: fc.boolean(),
});

export const containerShape = fc.record({
  createAt: fc.integer({ min: 0, max: 100 * MS }),
  createDelay: fc.integer({ min: 0, max: 2 * MS }),
  runs: fc.array(runShape, { maxLength: 3 }),
  destroyAfter: fc.option(fc.integer({ min: 0, max: 60 * MS }), { freq: 2 }),
});

/**
 * One container's operations. Pause and unpause are kept 31 ms away from anything else: Docker does not
 * time them, so a pause toggled twice within one inspect's round trip (< 20 ms here) cannot be told apart.
 */
type ContainerShape = typeof containerShape extends fc.Arbitrary<infer T> ? T : never;

export function historyOf(index: number, shape: ContainerShape): ContainerHistory {
  const containerId = index.toString(16).padStart(64, 'c');
  const ops: Operation[] = [];
  const op = (o: Omit<Operation, 'containerId'>) => ops.push({ containerId, ...o });
  op({ action: 'create', w: shape.createAt, t: shape.createAt + shape.createDelay });
  let cursor = shape.createAt + shape.createDelay;
  let running = false;
  for (const run of shape.runs) {
    const ws = cursor + run.gap;
    const ts = ws + run.startDelay;
    op({ action: 'start', w: ws, t: ts, dockerTime: ws });
    cursor = ts;
    if (run.paused) {
      const wp = cursor + 31 * MS;
      op({ action: 'pause', w: wp, t: wp + 500 });
      const wu = wp + 500 + 31 * MS;
      op({ action: 'unpause', w: wu, t: wu + 500 });
      cursor = wu + 500 + 31 * MS;
    }
    if (run.exitAfter === null) {
      running = true;
      break;
    }
    const finished = Math.max(ws + run.exitAfter, run.paused ? cursor : 0);
    const td = Math.max(finished, ts) + run.dieDelay;
    op({ action: 'die', w: td - 1, t: td, dockerTime: finished, exitCode: index % 3 });
    cursor = td;
  }
  if (!running && shape.destroyAfter !== null) {
    const wx = cursor + shape.destroyAfter;
    op({ action: 'destroy', w: wx, t: wx + 1 + (index % 7) * 100 });
  }
  return { containerId, name: `c${index}`, operations: ops };
}
