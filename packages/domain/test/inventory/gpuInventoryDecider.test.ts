import { describe, expect, it } from 'vitest';
import {
  eventCatalog,
  GpuAppeared,
  type GpuInventory,
  type GpuInventoryEvent,
  GpuInventoryObserved,
  GpuLost,
  GpuProbeFailed,
  type GpuProbeFailure,
  GpuProbeRecovered,
  gpuInventoryDecider,
  gpuInventoryStream,
  MigLayoutChanged,
  type RecordGpuProbe,
  type RecordGpuProbeFailure,
} from '../../src/index.ts';
import { DeciderSpecification } from '../../src/testing/deciderSpecification.ts';
import { EVEN_LATER, inventory, LATER, migGpu, NOW, site, wholeGpu } from './inventories.ts';

const spec = DeciderSpecification.for(gpuInventoryDecider);
const at = NOW.toISOString();

function probed(found: GpuInventory, now = LATER): RecordGpuProbe {
  return { type: 'RecordGpuProbe', inventory: found, now };
}

const timeout: GpuProbeFailure = {
  command: 'nvidia-smi -q -x',
  reason: 'timeout',
  message: 'nvidia-smi -q -x: did not finish within 20000 ms and was killed',
  exitCode: null,
};

function failed(failure = timeout, now = LATER): RecordGpuProbeFailure {
  return { type: 'RecordGpuProbeFailure', failure, now };
}

const observed = (found: GpuInventory, when = at) => GpuInventoryObserved({ inventory: found, at: when });

describe('gpu-inventory decider', () => {
  it('names the stream after the host', () => {
    expect(gpuInventoryStream('gpu01')).toBe('gpu-inventory-gpu01');
  });

  it('records the first inventory whole', () => {
    spec
      .given([])
      .when(probed(site, NOW))
      .then([observed(site)]);
  });

  it('records nothing when a probe finds what the last one found', () => {
    spec
      .given([observed(site)])
      .when(probed(site))
      .thenNothingHappened();
  });

  it('records a MIG reconfiguration: what changed, then the whole new inventory', () => {
    const reconfigured = inventory(
      site.gpus[0]!,
      migGpu(1, ['3g.40gb', '3g.40gb']),
      site.gpus[2]!,
      site.gpus[3]!,
    );
    const later = LATER.toISOString();
    spec
      .given([observed(site)])
      .when(probed(reconfigured))
      .then([
        MigLayoutChanged({
          gpuIndex: 1,
          uuid: site.gpus[1]!.uuid,
          before: { migEnabled: false, slots: [] },
          after: { migEnabled: true, slots: reconfigured.gpus[1]!.migSlots },
          removedSlots: ['1'],
          addedSlots: ['1.0', '1.1'],
          at: later,
        }),
        observed(reconfigured, later),
      ]);
  });

  it('records a GPU gone and one renumbered', () => {
    const before = inventory(wholeGpu(0), wholeGpu(1), wholeGpu(2));
    const after = inventory(wholeGpu(0), { ...wholeGpu(2), index: 1 });
    const later = LATER.toISOString();
    spec
      .given([observed(before)])
      .when(probed(after))
      .then([
        GpuLost({ gpu: wholeGpu(1), movedTo: null, at: later }),
        GpuLost({ gpu: wholeGpu(2), movedTo: 1, at: later }),
        GpuAppeared({ gpu: { ...wholeGpu(2), index: 1 }, movedFrom: 2, at: later }),
        observed(after, later),
      ]);
  });

  it('records an inventory that differs in nothing allocation sees, without a change event', () => {
    const learned = inventory(...site.gpus.map((gpu) => ({ ...gpu, memoryMiB: 81559 })));
    spec
      .given([observed(site)])
      .when(probed(learned))
      .then([observed(learned, LATER.toISOString())]);
  });

  it('records the start of failures once, not once per probe', () => {
    spec
      .given([observed(site)])
      .when(failed())
      .then([GpuProbeFailed({ ...timeout, at: LATER.toISOString() })]);
    spec
      .given([observed(site), GpuProbeFailed({ ...timeout, at: LATER.toISOString() })])
      .when(
        failed({ ...timeout, reason: 'exit-code', exitCode: 9, message: 'exited with code 9' }, EVEN_LATER),
      )
      .thenNothingHappened();
  });

  it('records failures before any inventory was seen', () => {
    spec
      .given([])
      .when(failed())
      .then([GpuProbeFailed({ ...timeout, at: LATER.toISOString() })]);
  });

  it('records the recovery with when failures began, and a changed inventory after it', () => {
    const failing = GpuProbeFailed({ ...timeout, at: LATER.toISOString() });
    const gone = inventory(wholeGpu(0), wholeGpu(1), site.gpus[2]!);
    const later = EVEN_LATER.toISOString();
    spec
      .given([observed(site), failing])
      .when(probed(site, EVEN_LATER))
      .then([GpuProbeRecovered({ failedSince: LATER.toISOString(), at: later })]);
    spec
      .given([observed(site), failing])
      .when(probed(gone, EVEN_LATER))
      .then([
        GpuProbeRecovered({ failedSince: LATER.toISOString(), at: later }),
        GpuLost({ gpu: site.gpus[3]!, movedTo: null, at: later }),
        observed(gone, later),
      ]);
  });

  it('starts a new failure period after a recovery', () => {
    const history: GpuInventoryEvent[] = [
      observed(site),
      GpuProbeFailed({ ...timeout, at: LATER.toISOString() }),
      GpuProbeRecovered({ failedSince: LATER.toISOString(), at: EVEN_LATER.toISOString() }),
    ];
    const again = new Date('2026-03-02T11:00:00.000Z');
    spec
      .given(history)
      .when(failed(timeout, again))
      .then([GpuProbeFailed({ ...timeout, at: again.toISOString() })]);
  });

  it('decides events the catalog accepts (what the store will validate)', () => {
    const reconfigured = inventory(wholeGpu(0), migGpu(1, ['1g.10gb']), site.gpus[3]!);
    const events = [
      ...gpuInventoryDecider.decide(probed(site, NOW), gpuInventoryDecider.initialState()),
      ...gpuInventoryDecider.decide(
        probed(reconfigured),
        gpuInventoryDecider.evolve(gpuInventoryDecider.initialState(), observed(site)),
      ),
      ...gpuInventoryDecider.decide(failed(), gpuInventoryDecider.initialState()),
    ];
    expect(events.map((event) => event.type)).toEqual([
      'GpuInventoryObserved',
      'GpuLost',
      'MigLayoutChanged',
      'GpuInventoryObserved',
      'GpuProbeFailed',
    ]);
    for (const event of events) expect(() => eventCatalog.encode(event.type, event.data)).not.toThrow();
  });
});
