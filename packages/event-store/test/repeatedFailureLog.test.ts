import { describe, expect, it } from 'vitest';
import { RepeatedFailureLog, StoreUnavailableError } from '../src/index.ts';

interface Line {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

function recordingLogger(): {
  lines: Line[];
  logger: ConstructorParameters<typeof RepeatedFailureLog>[0]['logger'];
} {
  const lines: Line[] = [];
  const at = (level: string) => (fields: object, message: string) =>
    lines.push({ level, fields: fields as Record<string, unknown>, message });
  return { lines, logger: { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') } };
}

const full = new StoreUnavailableError('/var/lib/ds01/events.db', 'cannot grow: the disk is full', {
  reason: 'disk_full',
});

describe('RepeatedFailureLog', () => {
  it('says a full disk once with what to do, without a stack, then every 30th try at warn', () => {
    const { lines, logger } = recordingLogger();
    const log = new RepeatedFailureLog({
      logger,
      what: 'could not record Docker events',
      retryEveryMs: 5000,
    });
    for (let i = 0; i < 60; i++) log.failed(full);
    expect(lines[0]).toMatchObject({
      level: 'error',
      message:
        'could not record Docker events: the disk holding /var/lib/ds01 is full: free space; ' +
        'DS01 retries every 5 s and loses nothing',
    });
    expect(lines[0]!.fields).not.toHaveProperty('err');
    expect(lines.filter((l) => l.level !== 'debug').map((l) => [l.level, l.fields['failures']])).toEqual([
      ['error', 1],
      ['warn', 30],
      ['warn', 60],
    ]);
    expect(log.failures).toBe(60);
  });

  it('names the remount for a read-only disk', () => {
    const { lines, logger } = recordingLogger();
    const readOnly = new StoreUnavailableError('/data/events.db', 'is read-only', { reason: 'read_only' });
    new RepeatedFailureLog({ logger, what: 'could not expire GPU holds', retryEveryMs: 30_000 }).failed(
      readOnly,
    );
    expect(lines[0]!.message).toBe(
      'could not expire GPU holds: the disk holding /data is read-only: remount it read-write ' +
        '(`findmnt -T /data`); DS01 retries every 30 s and loses nothing',
    );
  });

  it('keeps the stack of an unexpected error on its first line only', () => {
    const { lines, logger } = recordingLogger();
    const log = new RepeatedFailureLog({
      logger,
      what: 'could not sample',
      retryEveryMs: 1000,
      remindEvery: 2,
    });
    const bug = new TypeError('x is undefined');
    log.failed(bug);
    log.failed(bug);
    expect(lines.map((l) => [l.level, l.message, 'err' in l.fields])).toEqual([
      ['error', 'could not sample: x is undefined', true],
      ['warn', 'could not sample (still, 2 tries): x is undefined', false],
    ]);
  });

  it('says once that it works again, then starts counting afresh', () => {
    const { lines, logger } = recordingLogger();
    const log = new RepeatedFailureLog({ logger, what: 'could not append', retryEveryMs: 1000 });
    log.recovered();
    expect(lines).toEqual([]);
    log.failed(full);
    log.failed(full);
    log.recovered();
    log.recovered();
    log.failed(full);
    expect(lines.map((l) => [l.level, l.message.split(':')[0], l.fields['failures']])).toEqual([
      ['error', 'could not append', 1],
      ['debug', 'could not append (again)', 2],
      ['info', 'could not append', 2],
      ['error', 'could not append', 1],
    ]);
    expect(lines[2]!.message).toBe('could not append: works again after 2 failed tries');
  });
});
