import { describe, expect, it } from 'vitest';
import { GpuAllocationDenied, type GpuPoolEvent } from '../../src/index.ts';
import { at, granted, recorded, spec } from './given.ts';
import {
  allocate,
  containerA,
  containerB,
  containerC,
  sevenSlicePool,
  studentLimits,
  wholeGpuPool,
} from './pools.ts';

function denied(events: GpuPoolEvent[]) {
  const last = events.at(-1)!;
  if (last.type !== 'GpuAllocationDenied') throw new Error(`expected a denial, got ${last.type}`);
  return last.data;
}

describe('AllocateGpu: what is granted', () => {
  it('records the inventory on the first decision, then grants the smallest MIG slot of the least loaded GPU', () => {
    spec
      .given([])
      .when(allocate())
      .then([recorded(), granted('0.2')]);
  });

  it('does not record the inventory again while it is unchanged', () => {
    spec
      .given([recorded()])
      .when(allocate())
      .then([granted('0.2')]);
  });

  it('spreads load: the next slot goes to the GPU with the fewest GPU-equivalents held', () => {
    spec
      .given([recorded(), granted('0.2')])
      .when(allocate({ user: 'bob', containerId: containerB, requestId: 'req-2' }))
      .then([granted('1.2', { user: 'bob', containerId: containerB, requestId: 'req-2' })]);
  });

  it('keeps whole GPUs free: a request for any device takes a MIG slot while one is free', () => {
    const pool = [recorded(), granted('0.0'), granted('0.1'), granted('0.2'), granted('0.3')];
    spec
      .given(pool)
      .when(allocate({ containerId: null }))
      .then([granted('1.2', { containerId: null })]);
  });

  it('grants a whole GPU when asked for profile "full" and allow_full_gpu permits', () => {
    spec
      .given([recorded()])
      .when(allocate({ request: { profile: 'full' } }))
      .then([granted('2')]);
    spec
      .given([recorded(), granted('2', { user: 'bob', containerId: containerB })])
      .when(allocate({ request: { profile: 'full' } }))
      .then([granted('3')]);
  });

  it('puts the slots of a multi-slot request on different GPUs', () => {
    spec
      .given([recorded()])
      .when(allocate({ request: { count: 2 } }))
      .then([granted('0.2'), granted('1.2')]);
  });

  it('grants the asked MIG profile', () => {
    spec
      .given([recorded(), granted('0.0', { user: 'bob', containerId: containerB })])
      .when(allocate({ request: { profile: '3g.40gb' } }))
      .then([granted('1.0')]);
  });

  it('never grants a slot of a GPU someone holds whole, nor a whole GPU with a slice held (MIG switched under them)', () => {
    const before = [
      recorded(),
      granted('0.2'),
      granted('1.2', { user: 'bob', containerId: containerB }),
      granted('2', { user: 'bob', containerId: containerB }),
      granted('3', { user: 'carol', containerId: containerC }),
    ];
    spec
      .given(before)
      .when(
        allocate({ user: 'dave', containerId: null, request: { profile: 'full' }, inventory: wholeGpuPool }),
      )
      .thenEvents((events) => {
        expect(events.map((e) => e.type)).toEqual(['GpuPoolInventoryRecorded', 'GpuAllocationDenied']);
        expect(denied(events).reason).toEqual({ code: 'no_free_slot', requested: 1, free: 0 });
      });
  });
});

describe('AllocateGpu: a physical GPU is never over-committed', () => {
  it('grants no slice of a GPU whose slots under the old MIG layout are all held', () => {
    const gpu0 = sevenSlicePool.filter((s) => s.gpuIndex === 0);
    const others = { user: 'bob', containerId: containerB };
    spec
      .given([recorded(), ...['0.0', '0.1', '0.2', '0.3'].map((slot) => granted(slot, others))])
      .when(allocate({ inventory: gpu0 }))
      .thenEvents((events) =>
        expect(denied(events).reason).toEqual({ code: 'no_free_slot', requested: 1, free: 0 }),
      );
  });
});

describe('AllocateGpu: denials a person can act on', () => {
  it('unknown user', () => {
    spec
      .given([recorded()])
      .when(allocate({ user: 'nobody', userStatus: 'unknown' }))
      .then([
        GpuAllocationDenied({
          requestId: 'req-1',
          user: 'nobody',
          containerId: containerA,
          request: { count: 1, profile: null },
          reason: { code: 'unknown_user' },
          message:
            "'nobody' is not a user DS01 knows: check the spelling, or ask an admin to add the account",
          at,
        }),
      ]);
  });

  it('departed user', () => {
    spec
      .given([recorded()])
      .when(allocate({ userStatus: 'departed' }))
      .thenEvents((events) => {
        expect(denied(events).reason).toEqual({ code: 'departed_user' });
        expect(denied(events).message).toContain('has left the lab');
      });
  });

  it('a whole GPU where allow_full_gpu is false', () => {
    const limits = { ...studentLimits, allowFullGpu: false };
    spec
      .given([recorded()])
      .when(allocate({ limits, request: { profile: 'full' } }))
      .thenEvents((events) => {
        expect(denied(events).reason).toEqual({ code: 'full_gpu_not_allowed' });
        expect(denied(events).message).toMatch(/allow_full_gpu is false.*--profile/);
      });
  });

  it('any device on a host with only whole GPUs, when allow_full_gpu is false', () => {
    const limits = { ...studentLimits, allowFullGpu: false };
    spec
      .given([recorded(wholeGpuPool)])
      .when(allocate({ limits, inventory: wholeGpuPool }))
      .thenEvents((events) => expect(denied(events).reason).toEqual({ code: 'full_gpu_not_allowed' }));
  });

  it('a profile this host does not have, listing the ones it has', () => {
    spec
      .given([recorded()])
      .when(allocate({ request: { profile: '4g.40gb' } }))
      .thenEvents((events) => {
        expect(denied(events).reason).toEqual({
          code: 'unknown_profile',
          profile: '4g.40gb',
          available: ['1g.10gb', '2g.20gb', '3g.40gb', 'full'],
        });
        expect(denied(events).message).toBe(
          'this host has no 4g.40gb slot: its profiles are 1g.10gb, 2g.20gb, 3g.40gb, full; ask for one of those with --profile',
        );
      });
  });

  it('over the per-container slot cap', () => {
    spec
      .given([recorded(), granted('0.2'), granted('1.2')])
      .when(allocate())
      .thenEvents((events) => {
        expect(denied(events).reason).toEqual({ code: 'over_container_cap', held: 2, requested: 1, cap: 2 });
        expect(denied(events).message).toContain('at most 2 per container (max_gpu_slots_per_container)');
      });
  });

  it('over quota: says what the user holds of what, and how much the request needs', () => {
    spec
      .given([
        recorded(),
        granted('0.0', { containerId: containerB }),
        granted('2', { containerId: containerC }),
      ])
      .when(allocate({ request: { profile: 'full' } }))
      .thenEvents((events) => {
        expect(denied(events).reason).toEqual({ code: 'over_quota', held: 1.43, requested: 1, limit: 2 });
        expect(denied(events).message).toBe(
          'alice holds 1.43 of 2 GPU-equivalents (max_gpu_equivalents); 1 whole GPU needs at least 1 more: ' +
            'release a GPU (ds01 gpu release --container C) or ask for a smaller profile',
        );
      });
  });

  it("over the group's aggregate gpu_limit", () => {
    const limits = { ...studentLimits, aggregateGpuLimit: 0.5 };
    spec
      .given([recorded(), granted('0.2', { containerId: containerB })])
      .when(allocate({ limits, request: { profile: '3g.40gb' } }))
      .thenEvents((events) =>
        expect(denied(events).reason).toEqual({
          code: 'over_group_limit',
          held: 0.14,
          requested: 0.43,
          limit: 0.5,
        }),
      );
  });

  it('fits a request for any device into what is left of the quota', () => {
    const limits = { ...studentLimits, quotaGpuEquivalents: 1.2 };
    spec
      .given([recorded(), granted('2', { containerId: containerB })])
      .when(allocate({ limits }))
      .then([granted('0.2')]);
  });

  it('over quota when only slots larger than what is left are free', () => {
    const limits = { ...studentLimits, quotaGpuEquivalents: 1.2 };
    const others = { user: 'bob', containerId: containerC };
    spec
      .given([
        recorded(),
        granted('2', { containerId: containerB }),
        ...['0.2', '0.3', '1.2', '1.3'].map((slot) => granted(slot, others)),
      ])
      .when(allocate({ limits }))
      .thenEvents((events) =>
        expect(denied(events).reason).toEqual({ code: 'over_quota', held: 1, requested: 0.29, limit: 1.2 }),
      );
  });

  it('no free slot of the asked profile', () => {
    const others = { user: 'bob', containerId: containerB };
    spec
      .given([recorded(), granted('0.0', others), granted('1.0', { ...others, containerId: containerC })])
      .when(allocate({ request: { profile: '3g.40gb' } }))
      .thenEvents((events) => {
        expect(denied(events).reason).toEqual({ code: 'no_free_slot', requested: 1, free: 0 });
        expect(denied(events).message).toContain('no 1 3g.40gb slot free for alice');
      });
  });

  it('records the denial with the new inventory when the pool changed', () => {
    spec
      .given([])
      .when(allocate({ userStatus: 'unknown' }))
      .thenEvents((events) =>
        expect(events.map((e) => e.type)).toEqual(['GpuPoolInventoryRecorded', 'GpuAllocationDenied']),
      );
  });
});
