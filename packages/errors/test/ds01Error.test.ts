import { describe, expect, it } from 'vitest';
import { Ds01Error, formatDs01Error } from '../src/index.ts';

class DiskError extends Ds01Error {
  override name = 'DiskError';
  readonly path: string;
  constructor(path: string, cause: unknown) {
    super(`${path} is on a full disk`, { hint: 'free space and retry', cause });
    this.path = path;
  }
}

describe('Ds01Error', () => {
  it('carries its hint and cause through subclasses, and stays an Error', () => {
    const cause = new Error('ENOSPC');
    const error = new DiskError('/var/lib/ds01/events.db', cause);
    expect(error).toBeInstanceOf(Ds01Error);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('DiskError');
    expect(error.hint).toBe('free space and retry');
    expect(error.cause).toBe(cause);
    expect(error.path).toBe('/var/lib/ds01/events.db');
  });

  it('has no cause property unless one is given', () => {
    expect(Object.hasOwn(new Ds01Error('x'), 'cause')).toBe(false);
    expect(new Ds01Error('x').hint).toBeUndefined();
  });

  it('formats as one line, and the hint on a second', () => {
    expect(formatDs01Error('ds01', new Ds01Error('no such user bob'))).toBe('ds01: no such user bob');
    expect(formatDs01Error('ds01d', new Ds01Error('locked', { hint: 'stop the other one' }))).toBe(
      'ds01d: locked\nhint: stop the other one',
    );
  });
});
