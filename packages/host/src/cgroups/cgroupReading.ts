import { Ds01Error } from '@ds01/errors';
/** What one cgroup (a container's, a user slice's) has used, as its files say now. */
export interface CgroupReading {
  /** CPU time since the cgroup was made, in nanoseconds. */
  cpuUsageNs: number;
  memoryCurrentBytes: number;
  /** The most it ever used (v2 memory.peak, v1 memory.max_usage_in_bytes); null where the kernel has none. */
  memoryPeakBytes: number | null;
  /** null: no limit. */
  memoryLimitBytes: number | null;
  /** Bytes read and written on block devices since the cgroup was made. */
  ioReadBytes: number;
  ioWriteBytes: number;
  pids: number;
  /** Some process of the cgroup (for its network namespace), or null when it has none. */
  aPid: number | null;
}

/** v1 writes "no limit" as the largest page-aligned int64; v2 as "max". */
const V1_UNLIMITED = 2n ** 62n;

/** A counter file holding one number ("max" → null). */
export function numberOf(text: string, file: string): number | null {
  const value = text.trim();
  if (value === 'max') return null;
  if (!/^\d+$/.test(value)) throw new CgroupFormatError(file, 'expected a number or "max"', value);
  if (BigInt(value) >= V1_UNLIMITED) return null;
  return Number(value);
}

/** v2 cpu.stat / a flat keyed file ("usage_usec 123\nuser_usec 100\n...") → key → number. */
export function flatKeyed(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value && /^\d+$/.test(value)) values.set(key, Number(value));
  }
  return values;
}

/** v2 io.stat ("8:16 rbytes=1459200 wbytes=314773504 rios=192 ...") summed over devices. */
export function ioStatV2(text: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of text.split('\n')) {
    for (const field of line.trim().split(/\s+/).slice(1)) {
      const [key, value] = field.split('=');
      if (key === 'rbytes') read += Number(value);
      if (key === 'wbytes') write += Number(value);
    }
  }
  return { read, write };
}

/** v1 blkio.throttle.io_service_bytes ("8:0 Read 4096\n8:0 Write 0\n...\nTotal 4096") summed over devices. */
export function blkioV1(text: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of text.split('\n')) {
    const [, op, value] = line.trim().split(/\s+/);
    if (op === 'Read') read += Number(value);
    if (op === 'Write') write += Number(value);
  }
  return { read, write };
}

/** A cgroup file that does not hold what the kernel writes there. */
export class CgroupFormatError extends Ds01Error {
  override name = 'CgroupFormatError';
  constructor(file: string, problem: string, found: string) {
    super(`${file}: ${problem} (found: ${JSON.stringify(found.slice(0, 80))})`);
  }
}
