import { allocatableSlots, GpuInventorySchema } from '@ds01/domain';
import { describe, expect, it } from 'vitest';
import {
  buildInventory,
  ComputeAppSchema,
  GpuProcessSchema,
  gpuProcessesFromComputeApps,
  gpuProcessesFromXml,
  parseQueryComputeAppsCsv,
  parseQueryGpuCsv,
  parseSmiList,
  parseSmiXml,
  QueryGpuRowSchema,
  SmiListSchema,
  SmiXmlLogSchema,
} from '../../src/nvidia/index.ts';
import { captures } from './captures.ts';

// Every real capture in the fixtures folder, found by name: a capture added there (for example from
// a lent GPU machine) is parsed by these tests without a line of test code.

describe('every nvidia-smi -L capture', () => {
  it.each(captures('list').map((c) => [c.file, c] as const))('parses %s', (_file, capture) => {
    const list = SmiListSchema.parse(parseSmiList(capture.text));
    expect(list.gpus.length).toBeGreaterThan(0);
    const lines = capture.text.split('\n').filter((line) => line.trim() !== '');
    const devices = list.gpus.reduce((n, gpu) => n + gpu.migDevices.length, 0);
    expect(list.gpus.length + devices).toBe(lines.length);
    for (const gpu of list.gpus) {
      expect(gpu.uuid).toMatch(/^GPU-/);
      for (const mig of gpu.migDevices) expect(mig.uuid).toMatch(/^MIG-/);
    }
  });
});

describe('every nvidia-smi -q -x capture', () => {
  it.each(captures('q-x').map((c) => [c.file, c] as const))('parses %s', (_file, capture) => {
    const log = SmiXmlLogSchema.parse(parseSmiXml(capture.text));
    expect(log.gpus.length).toBe((capture.text.match(/<gpu id=/g) ?? []).length);
    expect(log.gpus.length).toBeGreaterThan(0);
    const processes = log.gpus.reduce((n, gpu) => n + gpu.processes.length, 0);
    expect(processes).toBe((capture.text.match(/<process_info>/g) ?? []).length);
    // A placeholder is never read as a zero, and a value is read as written.
    const sections = capture.text.split('<gpu id=').slice(1);
    log.gpus.forEach((gpu, i) => {
      const raw = /<gpu_util>([^<]*)<\/gpu_util>/.exec(sections[i]!)?.[1];
      if (raw === undefined || raw === 'N/A') expect(gpu.utilizationPercent).toBeNull();
      else expect(gpu.utilizationPercent).toBe(Number.parseFloat(raw));
      if (gpu.migEnabled) expect(gpu.utilizationPercent).toBeNull();
      expect(gpu.uuid).toMatch(/^GPU-/);
    });
  });
});

describe('every nvidia-smi --query-gpu capture', () => {
  it.each(captures('query-gpu').map((c) => [c.file, c] as const))('parses %s', (_file, capture) => {
    const rows = parseQueryGpuCsv(capture.text).map((row) => QueryGpuRowSchema.parse(row));
    expect(rows.length).toBe(capture.text.trim().split('\n').length - 1);
    for (const row of rows) {
      for (const [field, value] of Object.entries(row.fields)) {
        if (value === null) continue;
        expect(value, field).not.toMatch(/^\[.*\]$|^N\/A$/);
      }
    }
  });
});

describe('every nvidia-smi --query-compute-apps capture', () => {
  it.each(captures('query-compute-apps').map((c) => [c.file, c] as const))('parses %s', (_file, capture) => {
    const apps = parseQueryComputeAppsCsv(capture.text).map((app) => ComputeAppSchema.parse(app));
    expect(apps.length).toBe(capture.text.trim().split('\n').length - 1);
  });
});

/** Captures of one machine at one time, joined as the probe joins them. */
const machines = Object.entries(Object.groupBy(captures(), (capture) => capture.group)).filter(([, group]) =>
  group?.some((capture) => capture.kind === 'list'),
);

describe('every machine with an nvidia-smi -L capture', () => {
  it.each(machines)('builds an inventory for %s', (_group, group) => {
    const text = (kind: string) => group!.find((capture) => capture.kind === kind)?.text;
    const xmlText = text('q-x');
    const xml = xmlText ? parseSmiXml(xmlText) : null;
    // A machine may have -L both whole and cut to the GPUs its (trimmed) XML kept: join the pair that agrees.
    const lists = group!
      .filter((capture) => capture.kind === 'list')
      .map((capture) => parseSmiList(capture.text));
    const described = xml?.gpus.map((gpu) => gpu.uuid).join() ?? null;
    const list =
      lists.find((candidate) => candidate.gpus.map((gpu) => gpu.uuid).join() === described) ?? lists[0]!;
    const csvText = text('query-gpu');
    const queryGpu = csvText ? parseQueryGpuCsv(csvText) : null;

    const inventory = GpuInventorySchema.parse(buildInventory({ list, xml, queryGpu }));

    expect(inventory.gpus.map((gpu) => gpu.index)).toEqual(list.gpus.map((gpu) => gpu.index));
    const slots = allocatableSlots(inventory).map((slot) => slot.slot);
    expect(new Set(slots).size).toBe(slots.length);
    for (const gpu of inventory.gpus) {
      for (const mig of gpu.migSlots) expect(mig.slot).toBe(`${gpu.index}.${mig.migDevice}`);
      if (!gpu.migEnabled) expect(slots).toContain(String(gpu.index));
    }
    if (xml) {
      for (const process of gpuProcessesFromXml(inventory, xml)) GpuProcessSchema.parse(process);
    }
    const appsText = text('query-compute-apps');
    if (appsText) {
      const processes = gpuProcessesFromComputeApps(inventory, parseQueryComputeAppsCsv(appsText));
      expect(processes.length).toBe(appsText.trim().split('\n').length - 1);
    }
  });
});
