import { describe, it } from 'vitest';
import { GpuReleased, NothingToReleaseError, type ReleaseGpu } from '../../src/index.ts';
import { at, granted, recorded, spec } from './given.ts';
import { containerA, containerB, NOW } from './pools.ts';

function release(
  target: ReleaseGpu['target'],
  ifNothingHeld: ReleaseGpu['ifNothingHeld'] = 'fail',
): ReleaseGpu {
  return { type: 'ReleaseGpu', target, reason: 'requested', ifNothingHeld, now: NOW };
}

describe('ReleaseGpu', () => {
  const held = [
    recorded(),
    granted('0.2'),
    granted('1.2'),
    granted('2', { user: 'bob', containerId: containerB }),
  ];

  it('releases every slot the container holds, and only those', () => {
    spec
      .given(held)
      .when(release({ containerId: containerA }))
      .then([
        GpuReleased({ slot: '0.2', user: 'alice', containerId: containerA, reason: 'requested', at }),
        GpuReleased({ slot: '1.2', user: 'alice', containerId: containerA, reason: 'requested', at }),
      ]);
  });

  it('releases one slot by name', () => {
    spec
      .given(held)
      .when(release({ slot: '2' }))
      .then([GpuReleased({ slot: '2', user: 'bob', containerId: containerB, reason: 'requested', at })]);
  });

  it('says so when a person releases what nobody holds', () => {
    spec
      .given([
        ...held,
        GpuReleased({ slot: '2', user: 'bob', containerId: containerB, reason: 'requested', at }),
      ])
      .when(release({ slot: '2' }))
      .thenThrows(
        NothingToReleaseError,
        (e) => e.message === 'slot 2 is not held by anyone: nothing was released (see `ds01 gpu status`)',
      );
    spec
      .given(held)
      .when(release({ containerId: 'c'.repeat(64) }))
      .thenThrows(NothingToReleaseError, (e) => e.message.startsWith('container cccccccccccc holds no GPU'));
  });

  it('does nothing when a process manager replays a removal already handled', () => {
    spec
      .given(held)
      .when(release({ containerId: 'c'.repeat(64) }, 'ignore'))
      .thenNothingHappened();
  });
});
