import { type Dirent, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  blkioV1,
  CgroupFormatError,
  type CgroupReading,
  flatKeyed,
  ioStatV2,
  numberOf,
} from './cgroupReading.ts';

/** A container's cgroup: its id and its path below the hierarchy (the same in every v1 controller). */
export interface ContainerCgroup {
  containerId: string;
  /** e.g. "docker/<id>", "system.slice/docker-<id>.scope", "ds01.slice/.../docker-<id>.scope". */
  path: string;
}

const CONTAINER_DIR = /^(?:docker-)?([0-9a-f]{64})(?:\.scope)?$/;
/** ds01-infra's user slice: ds01-<group>-<sanitised user>.slice. */
const USER_SLICE = /^ds01-.+-.+\.slice$/;
/** Deep enough for ds01.slice → group → user → container, and for cgroup parents of others. */
const MAX_DEPTH = 6;

/**
 * Reads cgroups from /sys/fs/cgroup (or a copy of one: tests, benchmarks): cgroup v2 (one unified
 * tree: cpu.stat, memory.current/peak/max, io.stat, pids.current) or v1 (a tree per controller:
 * cpuacct, memory, blkio, pids). Which one is told by the root itself (v2 has cgroup.controllers).
 *
 * Files are read synchronously: cgroupfs and procfs are made by the kernel on read and never wait for
 * a disk, and a thread-pool round trip per file cost more than the read itself (bench/sampler.bench.ts:
 * 200 containers are ~1,600 reads a cycle).
 */
export class CgroupFs {
  readonly root: string;
  readonly version: 1 | 2;

  constructor(root = '/sys/fs/cgroup') {
    this.root = root;
    this.version = existsSync(join(root, 'cgroup.controllers')) ? 2 : 1;
  }

  /** Every container cgroup in the hierarchy (Docker's cgroupfs and systemd forms, any cgroup parent). */
  async containers(): Promise<ContainerCgroup[]> {
    const top = this.version === 2 ? this.root : join(this.root, 'memory');
    const found: ContainerCgroup[] = [];
    const walk = async (relative: string, depth: number): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = readdirSync(join(top, relative), { withFileTypes: true });
      } catch (error) {
        // A cgroup removed while walking (a container stopped) is simply not there.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        if (!entry.isDirectory()) continue;
        const path = relative ? `${relative}/${entry.name}` : entry.name;
        const match = CONTAINER_DIR.exec(entry.name);
        if (match) found.push({ containerId: match[1]!, path });
        else if (depth < MAX_DEPTH) await walk(path, depth + 1);
      }
    };
    await walk('', 0);
    return found.sort((a, b) => a.path.localeCompare(b.path));
  }

  /**
   * The ds01 user slices that hold containers (`ds01-<group>-<user>.slice`, the parent of a container's
   * cgroup: `ds01.slice/ds01-<group>.slice/<slice>` with systemd, `<slice>` with cgroupfs).
   */
  userSlicesOf(containers: readonly ContainerCgroup[]): { slice: string; path: string }[] {
    const slices = new Map<string, string>();
    for (const { path } of containers) {
      const parent = path.split('/').slice(0, -1);
      const name = parent.at(-1);
      if (name && USER_SLICE.test(name)) slices.set(parent.join('/'), name);
    }
    return [...slices].map(([path, slice]) => ({ slice, path })).sort((a, b) => a.path.localeCompare(b.path));
  }

  /** The usage of the cgroup at `path`, or null when it is gone (the container stopped meanwhile). */
  async read(path: string): Promise<CgroupReading | null> {
    try {
      return this.version === 2 ? await this.#readV2(path) : await this.#readV1(path);
    } catch (error) {
      if (
        (error as NodeJS.ErrnoException).code === 'ENOENT' ||
        (error as NodeJS.ErrnoException).code === 'ENODEV'
      )
        return null;
      throw error;
    }
  }

  async #readV2(path: string): Promise<CgroupReading> {
    const dir = join(this.root, path);
    const file = (name: string) => join(dir, name);
    const cpu = readText(file('cpu.stat'));
    const current = readText(file('memory.current'));
    const peak = optional(file('memory.peak'));
    const max = readText(file('memory.max'));
    const io = optional(file('io.stat'));
    const pids = readText(file('pids.current'));
    const procs = readText(file('cgroup.procs'));
    const usageUsec = flatKeyed(cpu).get('usage_usec');
    if (usageUsec === undefined)
      throw new CgroupFormatError(file('cpu.stat'), 'expected a usage_usec line', cpu);
    const { read, write } = ioStatV2(io ?? '');
    return {
      cpuUsageNs: usageUsec * 1000,
      memoryCurrentBytes: numberOf(current, file('memory.current')) ?? 0,
      memoryPeakBytes: peak === null ? null : numberOf(peak, file('memory.peak')),
      memoryLimitBytes: numberOf(max, file('memory.max')),
      ioReadBytes: read,
      ioWriteBytes: write,
      pids: numberOf(pids, file('pids.current')) ?? 0,
      aPid: firstPid(procs),
    };
  }

  async #readV1(path: string): Promise<CgroupReading> {
    const file = (controller: string, name: string) => join(this.root, controller, path, name);
    const cpu = readText(file('cpuacct', 'cpuacct.usage'));
    const current = readText(file('memory', 'memory.usage_in_bytes'));
    const peak = optional(file('memory', 'memory.max_usage_in_bytes'));
    const limit = readText(file('memory', 'memory.limit_in_bytes'));
    const blkio = optional(file('blkio', 'blkio.throttle.io_service_bytes'));
    const pids = optional(file('pids', 'pids.current'));
    const procs = readText(file('memory', 'cgroup.procs'));
    const { read, write } = blkioV1(blkio ?? '');
    return {
      cpuUsageNs: numberOf(cpu, file('cpuacct', 'cpuacct.usage')) ?? 0,
      memoryCurrentBytes: numberOf(current, file('memory', 'memory.usage_in_bytes')) ?? 0,
      memoryPeakBytes: peak === null ? null : numberOf(peak, file('memory', 'memory.max_usage_in_bytes')),
      memoryLimitBytes: numberOf(limit, file('memory', 'memory.limit_in_bytes')),
      ioReadBytes: read,
      ioWriteBytes: write,
      pids:
        pids === null
          ? procs.split('\n').filter(Boolean).length
          : (numberOf(pids, file('pids', 'pids.current')) ?? 0),
      aPid: firstPid(procs),
    };
  }
}

const readText = (file: string) => readFileSync(file, 'utf8');

function optional(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function firstPid(procs: string): number | null {
  const first = procs.split('\n').find((line) => /^\d+$/.test(line.trim()));
  return first === undefined ? null : Number(first);
}
