// Sampler overhead per cycle: what the cgroup sampler and the GPU sampler add to the raw cost of
// reading what they read, in the same run. The cgroup side reads a cgroup v2 tree of 200 containers
// (in the kernel's file formats, written to the bench's own folder) and each container's
// /proc/<pid>/net/dev; the GPU side reads a dcgm-exporter page of 28 MIG slots (4 GPUs x 7). Raw
// cost = finding and reading the same files (or parsing the same page with the bare library),
// without turning them into readings and windows. nvidia-smi itself is measured in gpuProbe.bench.ts.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { simulatedInventory } from '../packages/config/src/gpusConfig.ts';
import { ContainerResourceWindows, GpuUsageWindows } from '../packages/domain/src/index.ts';
import { CgroupFs, parseDcgmMetrics } from '../packages/host/src/index.ts';
import { CgroupSampler } from '../services/cgroup-sampler/src/cgroupSampler.ts';
import { gpuSampleOf } from '../services/gpu-sampler/src/usage/gpuSampleOf.ts';
import type { BenchContext, BenchFile, BenchResult } from './lib/benchFile.ts';
import { measureInterleaved } from './lib/measure.ts';

const CONTAINERS = 200;
const V2_FILES = [
  'cpu.stat',
  'memory.current',
  'memory.peak',
  'memory.max',
  'io.stat',
  'pids.current',
  'cgroup.procs',
];
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** 200 containers in ds01 user slices (10 users of 2 groups), as on a production host. */
function writeCgroupTree(root: string, proc: string): void {
  writeFileSync(join(mkdir(root), 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
  for (let i = 0; i < CONTAINERS; i++) {
    const group = i % 2 === 0 ? 'student' : 'researcher';
    const slice = join(root, `ds01.slice/ds01-${group}.slice/ds01-${group}-user${i % 10}.slice`);
    if (i < 10) writeCgroupFiles(mkdir(slice), i * 10, null);
    const pid = 10_000 + i;
    writeCgroupFiles(mkdir(join(slice, `docker-${i.toString(16).padStart(64, '0')}.scope`)), i, pid);
    writeFileSync(
      join(mkdir(join(proc, String(pid), 'net')), 'dev'),
      'Inter-|   Receive                                                |  Transmit\n' +
        ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n' +
        '    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n' +
        `  eth0: ${i * 1000}    ${i}    0    0    0     0          0         0    ${i * 500}     ${i}    0    0    0     0       0          0\n`,
    );
  }
}

/** The cgroup v2 files of one cgroup (a container's; a slice's, which holds no process itself). */
function writeCgroupFiles(dir: string, i: number, pid: number | null): void {
  writeFileSync(
    join(dir, 'cpu.stat'),
    `usage_usec ${i * 1_000_000}\nuser_usec ${i * 900_000}\nsystem_usec ${i * 100_000}\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\nnr_bursts 0\nburst_usec 0\n`,
  );
  writeFileSync(join(dir, 'memory.current'), `${(i + 1) * 1_048_576}\n`);
  writeFileSync(join(dir, 'memory.peak'), `${(i + 2) * 1_048_576}\n`);
  writeFileSync(join(dir, 'memory.max'), i % 3 === 0 ? 'max\n' : '34359738368\n');
  writeFileSync(
    join(dir, 'io.stat'),
    `259:0 rbytes=${i * 4096} wbytes=${i * 8192} rios=${i} wios=${i} dbytes=0 dios=0\n`,
  );
  writeFileSync(join(dir, 'pids.current'), `${1 + (i % 7)}\n`);
  writeFileSync(join(dir, 'cgroup.procs'), pid === null ? '' : `${pid}\n${pid + 50_000}\n`);
}

function mkdir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The raw cost: walk the tree the same way and read the same files (synchronously), parsing nothing. */
function rawRead(root: string, proc: string): void {
  const walk = (dir: string, depth: number): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const path = join(dir, entry.name);
      if (entry.name.startsWith('docker-')) {
        const files = V2_FILES.map((file) => readFileSync(join(path, file), 'utf8'));
        readFileSync(join(proc, files[6]!.split('\n')[0]!, 'net', 'dev'), 'utf8');
        continue;
      }
      // A user slice is read as well (the sampler windows them too).
      if (/^ds01-.+-.+\.slice$/.test(entry.name))
        for (const file of V2_FILES) readFileSync(join(path, file), 'utf8');
      if (depth < 6) walk(path, depth + 1);
    }
  };
  walk(root, 0);
}

/** A dcgm-exporter page for 28 MIG slots: the label set of the real capture, the fields DS01 reads. */
function dcgmPage(): string {
  const fields = [
    'DCGM_FI_PROF_GR_ENGINE_ACTIVE',
    'DCGM_FI_PROF_SM_ACTIVE',
    'DCGM_FI_PROF_DRAM_ACTIVE',
    'DCGM_FI_DEV_FB_USED',
    'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION',
    'DCGM_FI_DEV_XID_ERRORS',
  ];
  const lines: string[] = [];
  for (const field of fields) {
    lines.push(`# HELP ${field} ${field}.`, `# TYPE ${field} gauge`);
    for (let gpu = 0; gpu < 4; gpu++) {
      for (let instance = 0; instance < 7; instance++) {
        lines.push(
          `${field}{gpu="${gpu}",UUID="GPU-63bc0b91-2265-1b94-831c-15c41fe9267${gpu}",pci_bus_id="00000000:CA:00.0",` +
            `device="nvidia${gpu}",modelName="NVIDIA A100-SXM4-80GB",GPU_I_PROFILE="1g.10gb",GPU_I_ID="${7 + instance}",` +
            `hostname="dcgm-exporter-wwwjh"} ${((gpu * 7 + instance) % 10) / 10}`,
        );
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

const bench: BenchFile = {
  name: 'Sampler overhead per cycle (cgroup sampler, 200 containers; GPU sampler, 28 slots)',
  description:
    'CPU per sampling cycle. `raw reads` finds and reads the same files (the cgroup v2 files of 200 ' +
    "containers and of the 10 ds01 user slices they are in, and the containers' /proc/<pid>/net/dev) or parses the same dcgm-exporter page " +
    '(28 MIG slots) with the bare parse-prometheus-text-format; `ds01` does a whole cycle of the sampler: ' +
    'readings, owners, and the usage-window aggregation (appends happen once per window, not per cycle, ' +
    'and are measured in eventStore.bench.ts). Events here are cycles. Target: a cycle of either sampler ' +
    'takes under 200 ms (≥ 5 cycles/s), so at the 15 s interval a sampler costs under 1.5% of one core; ' +
    'the CPU column is the steadier measure on a shared machine.',
  async run(context: BenchContext): Promise<BenchResult[]> {
    const root = join(context.workDir, 'cgroup');
    const proc = join(context.workDir, 'proc');
    writeCgroupTree(root, proc);
    if (readdirSync(proc).length !== CONTAINERS) throw new Error('bench tree incomplete');
    const cyclesPerRepetition = context.quick ? 2 : 10;
    const repetitions = context.quick ? 3 : 15;
    // Every cycle lands in one 5-minute window, a second after the last.
    const start = Date.parse('2026-12-03T12:00:00Z');
    let cycle = 0;
    const nextCycle = () => new Date(start + (cycle++ % 250) * 1000);
    const sampler = new CgroupSampler({
      store: null as never,
      cgroups: new CgroupFs(root),
      host: 'bench',
      logger: quiet,
      intervalMs: 15_000,
      windowMs: 300_000,
      ownerOf: () => 'user',
      procRoot: proc,
    });
    const containerWindows = new ContainerResourceWindows({ host: 'bench' });
    const sliceWindows = new ContainerResourceWindows({ host: 'bench' });
    const cgroupResults = await measureInterleaved([
      {
        name: 'cgroup sampler cycle, 200 containers (cgroup v2)',
        variant: 'raw reads',
        eventsPerRepetition: cyclesPerRepetition,
        warmup: 2,
        repetitions,
        run: () => {
          for (let i = 0; i < cyclesPerRepetition; i++) rawRead(root, proc);
        },
      },
      {
        name: 'cgroup sampler cycle, 200 containers (cgroup v2)',
        variant: 'ds01',
        eventsPerRepetition: cyclesPerRepetition,
        warmup: 2,
        repetitions,
        run: async () => {
          for (let i = 0; i < cyclesPerRepetition; i++) {
            // One window: the store is never reached (a window closes every 5 minutes, not per cycle).
            const at = nextCycle();
            const { containers, slices } = await sampler.readAll();
            containerWindows.add(at, containers);
            sliceWindows.add(at, slices);
          }
        },
        baseline: 'raw reads',
        targetEventsPerSecond: 5,
      },
    ]);

    const page = dcgmPage();
    const inventory = simulatedInventory(
      Array.from({ length: 4 }, () => ({
        name: 'NVIDIA A100-SXM4-80GB',
        memory_mib: 81920,
        mig: Array(7).fill('1g.10gb'),
      })),
    );
    // The dcgm page names GPU instances 7..13; give the simulated slots those ids.
    for (const gpu of inventory.gpus) {
      for (const [i, slot] of gpu.migSlots.entries())
        Object.assign(slot, { gpuInstanceId: 7 + i, computeInstanceId: 0 });
    }
    const gpuWindows = new GpuUsageWindows({ host: 'bench' });
    const gpuResults = await measureInterleaved([
      {
        name: 'GPU sampler cycle, 28 MIG slots (dcgm-exporter)',
        variant: 'raw reads',
        eventsPerRepetition: cyclesPerRepetition * 10,
        warmup: 3,
        repetitions,
        run: () => {
          for (let i = 0; i < cyclesPerRepetition * 10; i++) parsePrometheusTextFormat(page);
        },
      },
      {
        name: 'GPU sampler cycle, 28 MIG slots (dcgm-exporter)',
        variant: 'ds01',
        eventsPerRepetition: cyclesPerRepetition * 10,
        warmup: 3,
        repetitions,
        run: () => {
          for (let i = 0; i < cyclesPerRepetition * 10; i++) {
            const dcgm = parseDcgmMetrics(page);
            const at = nextCycle();
            gpuWindows.add(
              gpuSampleOf({ inventory, xml: null, dcgm, processes: [], owners: new Map(), at }),
              () => ({ containerId: null, user: null }),
            );
          }
        },
        baseline: 'raw reads',
        targetEventsPerSecond: 5,
      },
    ]);
    if (gpuWindows.current === null || readFileSync(join(root, 'cgroup.controllers'), 'utf8') === '')
      throw new Error('bench did no work');
    return [...cgroupResults, ...gpuResults];
  },
};

export default bench;
