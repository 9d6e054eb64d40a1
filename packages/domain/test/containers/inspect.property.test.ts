import {
  ContainerDescription,
  ContainerInspect,
  type DescribeFacts,
  describeContainer,
  userDirectoryOf,
} from '@ds01/domain';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anyText, check, replaceOne, withoutException } from '../../../../test/support/fuzz.ts';
import { exitedInspect, plainInspect } from './inspectFixture.ts';

const facts: DescribeFacts = {
  users: userDirectoryOf([{ name: 'alice', uid: 1001 }]),
  pathOwners: new Map([['/home/someone/data', 1001]]),
  defaultRuntime: 'nvidia',
};

/**
 * Whatever the schema accepts, the domain can describe: the schema is the only gate between
 * Docker's answer and attribution, labels, GPU access and limits.
 */
function acceptedMeansDescribable(raw: unknown): void {
  const parsed = withoutException(() => ContainerInspect.safeParse(raw), raw);
  if (!parsed.success) return;
  const description = withoutException(() => describeContainer(parsed.data, facts), raw);
  ContainerDescription.parse(description);
}

/** Values Docker could send in a field, and ones it should not. */
const value = fc.oneof(
  fc.jsonValue(),
  fc.constant(undefined),
  anyText(30),
  fc.constantFrom('', '/', 'all', 'none', 'void', 'GPU-1,GPU-2', '0001-01-01T00:00:00Z', '1001:1001', 'root'),
  fc.dictionary(
    fc.constantFrom('ds01.user', 'ds01.managed', 'aime.mlc.USER', 'ds01.gpu.slots', 'x'),
    anyText(12),
  ),
  fc.array(
    fc.constantFrom('NVIDIA_VISIBLE_DEVICES=all', 'NVIDIA_VISIBLE_DEVICES=', 'CUDA_VISIBLE_DEVICES=0', '='),
  ),
);

describe('ContainerInspect → describeContainer on any field (property)', () => {
  it.each([
    ['inspect-plain.json', plainInspect],
    ['inspect-exited.json', exitedInspect],
  ])('one field of the real capture %s replaced', (_name, capture) => {
    check(
      fc.tuple(fc.nat(), value).map(([pick, replacement]) => replaceOne(capture, pick, replacement)),
      acceptedMeansDescribable,
      250,
    );
  });
});

describe('ContainerInspect on a fraction where Docker sends an int64', () => {
  it('refuses it, naming the field (found by the property above: MemorySwap -5e-324)', () => {
    const raw = structuredClone(exitedInspect) as { HostConfig: Record<string, unknown> };
    raw.HostConfig.MemorySwap = -5e-324;
    const parsed = ContainerInspect.safeParse(raw);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['HostConfig', 'MemorySwap']);
  });
});

describe('ContainerInspect on a time outside the years an instant can hold', () => {
  it.each([
    ['54201', 'a bare number: new Date reads it as the year 54201 (found by the property above)'],
    ['0000-01-01T00:00:00+01:00', 'an offset that moves it before the year 0000'],
    ['2026-13-01T00:00:00Z', 'no such month'],
  ])('refuses Created %s (%s), naming the field', (created) => {
    const raw = { ...structuredClone(exitedInspect), Created: created };
    const parsed = ContainerInspect.safeParse(raw);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['Created']);
  });

  it('reads the zero time Docker writes for a container never started', () => {
    const raw = structuredClone(exitedInspect) as { State: Record<string, unknown> };
    raw.State.StartedAt = '0001-01-01T00:00:00Z';
    expect(ContainerInspect.safeParse(raw).success).toBe(true);
  });
});
