import { dockerHistoryMissed, historyGapOf } from '@ds01/domain';
import { describe, expect, it } from 'vitest';

const CHECKPOINT = '1764763200000000000'; // 2025-12-03T12:00:00Z

describe('historyGapOf: what Docker no longer replays', () => {
  it('a full ring whose oldest event is newer than the checkpoint leaves a gap up to that event', () => {
    expect(historyGapOf({ events: 256, oldestNano: '1764763260000000000' }, CHECKPOINT, 256)).toEqual({
      fromNano: CHECKPOINT,
      untilNano: '1764763260000000000',
    });
  });

  it('no gap while the ring reaches back to the checkpoint', () => {
    expect(historyGapOf({ events: 256, oldestNano: CHECKPOINT }, CHECKPOINT, 256)).toBeNull();
    expect(historyGapOf({ events: 256, oldestNano: '1764763100000000000' }, CHECKPOINT, 256)).toBeNull();
  });

  it('no gap when the ring is not full: it holds everything since the daemon started', () => {
    expect(historyGapOf({ events: 12, oldestNano: '1764763260000000000' }, CHECKPOINT, 256)).toBeNull();
    expect(historyGapOf({ events: 0, oldestNano: null }, CHECKPOINT, 256)).toBeNull();
  });

  it('the same gap found twice is one event (its id comes from the gap)', () => {
    const gap = { fromNano: CHECKPOINT, untilNano: '1764763260000000000' };
    const first = dockerHistoryMissed('gpu01', gap, 256);
    expect(dockerHistoryMissed('gpu01', gap, 256).eventId).toBe(first.eventId);
    expect(dockerHistoryMissed('gpu02', gap, 256).eventId).not.toBe(first.eventId);
    expect(first.event.data).toEqual({
      host: 'gpu01',
      from: '2025-12-03T12:00:00.000Z',
      until: '2025-12-03T12:01:00.000Z',
      ringSize: 256,
    });
  });
});
