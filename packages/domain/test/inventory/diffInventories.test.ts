import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffInventories, removedSlots, sameInventory } from '../../src/index.ts';
import { inventory, migGpu, site, wholeGpu } from './inventories.ts';

describe('diffInventories', () => {
  it('finds nothing between an inventory and itself, in whatever order it lists things', () => {
    const shuffled = inventory(
      ...[...site.gpus].reverse().map((gpu) => ({ ...gpu, migSlots: [...gpu.migSlots].reverse() })),
    );
    expect(diffInventories(site, shuffled)).toEqual([]);
    expect(sameInventory(site, shuffled)).toBe(true);
  });

  it('finds a lost GPU with the slots it had', () => {
    const after = inventory(site.gpus[0]!, site.gpus[1]!, site.gpus[3]!);
    // GPU 3 kept its index here (a trimmed list), so only GPU 2 is lost.
    expect(diffInventories(site, after)).toEqual([{ kind: 'lost', gpu: site.gpus[2], movedTo: null }]);
    expect(removedSlots(site, after)).toEqual(['2.0', '2.1', '2.2', '2.3']);
  });

  it('finds a GPU renumbered after one before it was lost: lost at the old index, appeared at the new', () => {
    const before = inventory(wholeGpu(0), wholeGpu(1), wholeGpu(2));
    const after = inventory(wholeGpu(0), { ...wholeGpu(2), index: 1 });
    expect(diffInventories(before, after)).toEqual([
      { kind: 'lost', gpu: wholeGpu(1), movedTo: null },
      { kind: 'lost', gpu: wholeGpu(2), movedTo: 1 },
      { kind: 'appeared', gpu: { ...wholeGpu(2), index: 1 }, movedFrom: 2 },
    ]);
    // Slot "1" still exists but names another device now; slot "2" is gone.
    expect(removedSlots(before, after)).toEqual(['1', '2']);
  });

  it('finds a GPU that appeared', () => {
    const before = inventory(wholeGpu(0));
    const after = inventory(wholeGpu(0), wholeGpu(1));
    expect(diffInventories(before, after)).toEqual([{ kind: 'appeared', gpu: wholeGpu(1), movedFrom: null }]);
    expect(removedSlots(before, after)).toEqual([]);
  });

  it('finds MIG switched on: the whole-GPU slot removed, the MIG slots added', () => {
    const after = inventory(migGpu(0, ['3g.40gb', '3g.40gb']));
    expect(diffInventories(inventory(wholeGpu(0)), after)).toEqual([
      {
        kind: 'migLayoutChanged',
        gpuIndex: 0,
        uuid: wholeGpu(0).uuid,
        before: { migEnabled: false, slots: [] },
        after: { migEnabled: true, slots: after.gpus[0]!.migSlots },
        removedSlots: ['0'],
        addedSlots: ['0.0', '0.1'],
      },
    ]);
  });

  it('finds MIG instances made anew: same slot names, new profiles or UUIDs', () => {
    const before = inventory(migGpu(0, ['3g.40gb', '2g.20gb', '1g.10gb']));
    const after = inventory(migGpu(0, ['3g.40gb', '1g.10gb', '1g.10gb', '1g.10gb'], 1));
    const [change] = diffInventories(before, after);
    expect(change).toMatchObject({
      kind: 'migLayoutChanged',
      removedSlots: ['0.0', '0.1', '0.2'],
      addedSlots: ['0.0', '0.1', '0.2', '0.3'],
    });
  });

  it('finds MIG enabled with no instances made yet', () => {
    const after = inventory(migGpu(0, []));
    expect(diffInventories(inventory(wholeGpu(0)), after)).toMatchObject([
      {
        kind: 'migLayoutChanged',
        removedSlots: ['0'],
        addedSlots: [],
        after: { migEnabled: true, slots: [] },
      },
    ]);
  });

  it('gives no change for a difference allocation does not see (memory learned later), but it is not the same', () => {
    const after = inventory({ ...wholeGpu(0), memoryMiB: null });
    expect(diffInventories(inventory(wholeGpu(0)), after)).toEqual([]);
    expect(sameInventory(inventory(wholeGpu(0)), after)).toBe(false);
  });

  it('property: the slots removed are exactly those of lost GPUs and changed MIG layouts', () => {
    const layouts = fc.constantFrom<string[] | null>(
      null,
      [],
      ['7g.80gb'],
      ['3g.40gb', '3g.40gb'],
      ['3g.40gb', '2g.20gb', '1g.10gb', '1g.10gb'],
    );
    const gpuArb = fc.tuple(layouts, fc.integer({ min: 0, max: 2 }));
    const inventoryArb = fc
      .uniqueArray(fc.integer({ min: 0, max: 5 }), { maxLength: 4 })
      .chain((ids) =>
        fc.tuple(fc.constant(ids), fc.array(gpuArb, { minLength: ids.length, maxLength: ids.length })),
      )
      .map(([ids, shapes]) =>
        inventory(
          ...ids.map((id, index) => {
            const [layout, generation] = shapes[index]!;
            const letter = String.fromCharCode(97 + id);
            return layout === null ? wholeGpu(index, letter) : migGpu(index, layout, generation, letter);
          }),
        ),
      );
    fc.assert(
      fc.property(inventoryArb, inventoryArb, (before, after) => {
        const changes = diffInventories(before, after);
        const fromChanges = new Set(
          changes.flatMap((change) => {
            if (change.kind === 'migLayoutChanged') return change.removedSlots;
            if (change.kind === 'lost')
              return change.gpu.migEnabled
                ? change.gpu.migSlots.map((s) => s.slot)
                : [String(change.gpu.index)];
            return [];
          }),
        );
        const removed = removedSlots(before, after);
        // A lost GPU's slots may be taken by a GPU renumbered into its place: still removed (another device).
        expect(new Set(removed)).toEqual(fromChanges);
        expect(changes.length === 0).toBe(sameAllocatable(before, after));
      }),
    );
  });
});

/** Same GPUs at the same indices, and the same devices to allocate. */
function sameAllocatable(a: ReturnType<typeof inventory>, b: ReturnType<typeof inventory>): boolean {
  const gpus = (x: ReturnType<typeof inventory>) =>
    x.gpus
      .map((gpu) => `${gpu.index}:${gpu.uuid}:${gpu.migEnabled}`)
      .sort()
      .join();
  return removedSlots(a, b).length === 0 && removedSlots(b, a).length === 0 && gpus(a) === gpus(b);
}
