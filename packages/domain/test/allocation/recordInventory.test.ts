import { describe, it } from 'vitest';
import type { RecordPoolInventory } from '../../src/index.ts';
import { recorded, spec } from './given.ts';
import { mixedPool, NOW } from './pools.ts';

const record = (inventory = mixedPool): RecordPoolInventory => ({
  type: 'RecordPoolInventory',
  inventory,
  now: NOW,
});

describe('RecordPoolInventory', () => {
  it('records the devices of a pool that has none yet, in slot order', () => {
    spec
      .given([])
      .when(record([...mixedPool].reverse()))
      .then([recorded()]);
  });

  it('records nothing when the devices are the ones already recorded', () => {
    spec.given([recorded()]).when(record()).thenNothingHappened();
  });

  it('records the new devices when the GPUs changed (a GPU gone)', () => {
    const fewer = mixedPool.filter((s) => s.gpuIndex !== 0);
    spec
      .given([recorded()])
      .when(record(fewer))
      .then([recorded(fewer)]);
  });
});
