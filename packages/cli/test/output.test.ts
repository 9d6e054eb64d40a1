import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CliError, describeError } from '../src/errors.ts';
import { Output } from '../src/output/output.ts';
import { summarizeData } from '../src/output/summary.ts';
import { renderTable } from '../src/output/table.ts';
import { formatBytes, relativeTime } from '../src/output/time.ts';

interface Row {
  name: string;
  size: number;
  note: string;
}
const rows: Row[] = [
  { name: 'alice', size: 3, note: 'a short note' },
  { name: 'bartholomew', size: 12345, note: 'a much longer note that will not fit a narrow terminal' },
];
const columns = [
  { header: 'name', value: (r: Row) => r.name },
  { header: 'size', value: (r: Row) => String(r.size), align: 'right' as const },
  { header: 'note', value: (r: Row) => r.note },
];

describe('tables', () => {
  it('aligns columns under upper-case headers, numbers to the right', () => {
    expect(renderTable(columns, rows).split('\n')).toEqual([
      'NAME          SIZE  NOTE',
      'alice            3  a short note',
      'bartholomew  12345  a much longer note that will not fit a narrow terminal',
    ]);
  });

  it('is never wider than the terminal: the shrinkable column is cut with an ellipsis', () => {
    const lines = renderTable(columns, rows, 40).split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(40);
    expect(lines[2]).toBe('bartholomew  12345  a much longer note…');
  });

  it('keeps a row on one line whatever its values hold', () => {
    const table = renderTable(columns, [{ name: 'x', size: 1, note: 'two\nlines\tand tab' }]);
    expect(table.split('\n')[1]).toBe('x        1  two lines and tab');
  });

  it('writes through Output: the terminal width on a TTY, unlimited to a pipe', () => {
    const sink = Object.assign(new PassThrough(), { isTTY: true, columns: 30 });
    let text = '';
    sink.on('data', (chunk) => {
      text += chunk;
    });
    new Output(sink, {}).table(columns, rows);
    expect(
      Math.max(
        ...text
          .trimEnd()
          .split('\n')
          .map((l) => l.length),
      ),
    ).toBeLessThanOrEqual(30);
    const pipe = new PassThrough();
    expect(new Output(pipe, {}).width).toBe(Number.POSITIVE_INFINITY);
    expect(new Output(pipe, { COLUMNS: '50' }).width).toBe(50);
  });
});

describe('relative times and sizes', () => {
  const now = new Date('2025-06-01T12:00:00Z');
  it.each([
    ['2025-06-01T11:59:58Z', 'just now'],
    ['2025-06-01T11:59:18Z', '42s ago'],
    ['2025-06-01T11:57:00Z', '3m ago'],
    ['2025-06-01T07:00:00Z', '5h ago'],
    ['2025-05-20T12:00:00Z', '12d ago'],
    ['2025-01-01T12:00:00Z', '5mo ago'],
    ['2022-06-01T12:00:00Z', '3y ago'],
    ['2025-06-01T12:03:00Z', 'in 3m'],
  ])('%s is %s', (instant, expected) => {
    expect(relativeTime(instant, now)).toBe(expected);
  });

  it('formats sizes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
  });
});

describe('event summaries', () => {
  it('shows data as key=value, container ids cut like docker, odd strings quoted', () => {
    expect(
      summarizeData({ user: 'alice', uid: 1001, containerId: 'ab'.repeat(32), reason: 'left the lab' }),
    ).toBe('user=alice uid=1001 containerId=abababababab reason="left the lab"');
    expect(summarizeData({ labels: { a: '1' }, gone: null })).toBe('labels={"a":"1"} gone=null');
  });
});

describe('errors', () => {
  it('prints a typed error as one line and its hint, without a stack', () => {
    const text = describeError(new CliError('no such thing', { hint: 'try another' }), false);
    expect(text).toBe('ds01: no such thing\nhint: try another');
  });

  it('calls an untyped error a bug, and shows the stack with --debug', () => {
    expect(describeError(new TypeError('x is undefined'), false)).toMatch(
      /unexpected error: x is undefined\nhint: .*--debug/,
    );
    expect(describeError(new TypeError('x is undefined'), true)).toMatch(/TypeError: x is undefined\n\s+at /);
  });
});
