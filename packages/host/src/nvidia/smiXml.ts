import { XMLParser } from 'fast-xml-parser';
import { z } from 'zod';
import { NvidiaOutputError } from './errors.ts';
import { readingInteger, readingNumber, readingSwitch, readingText } from './readings.ts';

const COMMAND = 'nvidia-smi -q -x';

export const SmiXmlMigDeviceSchema = z.object({
  /** The MIG device number: the same as "Device N" of `nvidia-smi -L`. */
  index: z.number().int().nonnegative(),
  gpuInstanceId: z.number().int().nonnegative().nullable(),
  computeInstanceId: z.number().int().nonnegative().nullable(),
  memoryTotalMiB: z.number().nonnegative().nullable(),
  memoryUsedMiB: z.number().nonnegative().nullable(),
  multiprocessorCount: z.number().int().nonnegative().nullable(),
});
export type SmiXmlMigDevice = z.infer<typeof SmiXmlMigDeviceSchema>;

export const SmiXmlProcessSchema = z.object({
  pid: z.number().int().positive(),
  /** "C" (compute), "G" (graphics), "C+G"; null when not given. */
  type: z.string().nullable(),
  name: z.string(),
  usedMemoryMiB: z.number().nonnegative().nullable(),
  /** Which MIG device the process runs on (null without MIG, absent before driver 450). */
  gpuInstanceId: z.number().int().nonnegative().nullable(),
  computeInstanceId: z.number().int().nonnegative().nullable(),
});
export type SmiXmlProcess = z.infer<typeof SmiXmlProcessSchema>;

const EccCountsSchema = z.object({
  correctable: z.number().int().nonnegative().nullable(),
  uncorrectable: z.number().int().nonnegative().nullable(),
});

/** What says a GPU's memory or clocks are in trouble: ECC errors, retired pages, throttling. */
export const SmiXmlHealthSchema = z.object({
  /** ECC errors since the driver loaded; null when ECC is off or unsupported (all N/A). */
  eccVolatile: EccCountsSchema.nullable(),
  /** ECC errors over the GPU's lifetime. */
  eccAggregate: EccCountsSchema.nullable(),
  /** Pages retired for repeated single-bit and for double-bit errors; null where not supported. */
  retiredPages: z.object({
    singleBit: z.number().int().nonnegative().nullable(),
    doubleBit: z.number().int().nonnegative().nullable(),
    pending: z.boolean().nullable(),
  }),
  /**
   * The clocks-throttle (since driver 535: clocks-event) reasons now active, by their short name
   * ("hw_thermal_slowdown", "sw_power_cap", "gpu_idle"); null when the element is absent.
   */
  throttleReasons: z.array(z.string()).nullable(),
});
export type SmiXmlHealth = z.infer<typeof SmiXmlHealthSchema>;

export const SmiXmlGpuSchema = z.object({
  /** 0-based order of the <gpu> element: nvidia-smi's GPU index (minor_number is something else). */
  position: z.number().int().nonnegative(),
  pciBusId: z.string().nullable(),
  uuid: z.string(),
  name: z.string(),
  /** /dev/nvidiaN: need not follow the index. */
  minorNumber: z.number().int().nonnegative().nullable(),
  memoryTotalMiB: z.number().nonnegative().nullable(),
  memoryUsedMiB: z.number().nonnegative().nullable(),
  /** null where the GPU (or the driver) has no MIG. */
  migEnabled: z.boolean().nullable(),
  migPending: z.boolean().nullable(),
  /** The MIG devices; empty when MIG is on but no instance was made, null when MIG is off or unknown. */
  migDevices: z.array(SmiXmlMigDeviceSchema).nullable(),
  /** Whole-GPU utilisation: null on a MIG-enabled GPU, which has none (use DCGM profiling metrics). */
  utilizationPercent: z.number().nonnegative().nullable(),
  powerDrawW: z.number().nonnegative().nullable(),
  temperatureC: z.number().nullable(),
  health: SmiXmlHealthSchema,
  processes: z.array(SmiXmlProcessSchema),
});
export type SmiXmlGpu = z.infer<typeof SmiXmlGpuSchema>;

export const SmiXmlLogSchema = z.object({
  driverVersion: z.string().nullable(),
  cudaVersion: z.string().nullable(),
  /** As written; a trimmed capture may hold fewer <gpu> elements. */
  attachedGpus: z.number().int().nonnegative().nullable(),
  gpus: z.array(SmiXmlGpuSchema),
});
export type SmiXmlLog = z.infer<typeof SmiXmlLogSchema>;

const parser = new XMLParser({
  ignoreAttributes: true,
  // Values stay strings: "N/A" and units are read field by field (readings.ts).
  parseTagValue: false,
  isArray: (name) => name === 'gpu' || name === 'mig_device' || name === 'process_info',
});

/**
 * Parses `nvidia-smi -q -x` (DTD v10 to v13): per GPU its identity, memory, MIG mode and MIG devices
 * (with GPU/compute instance ids, which `-L` lacks), a few readings, and its processes.
 */
export function parseSmiXml(output: string): SmiXmlLog {
  let document: unknown;
  try {
    document = parser.parse(output, true);
  } catch (error) {
    throw xmlSyntaxError(output, error);
  }
  const root = XmlElement.root(document, 'nvidia_smi_log');
  return {
    driverVersion: root.text('driver_version'),
    cudaVersion: root.text('cuda_version'),
    attachedGpus: root.integer('attached_gpus'),
    gpus: root.children('gpu').map(readGpu),
  };
}

function readGpu(gpu: XmlElement, position: number): SmiXmlGpu {
  const migMode = gpu.child('mig_mode');
  const memory = gpu.child('fb_memory_usage');
  const power = gpu.child('gpu_power_readings') ?? gpu.child('power_readings');
  return {
    position,
    pciBusId: gpu.child('pci')?.text('pci_bus_id') ?? null,
    uuid: gpu.requiredText('uuid'),
    name: gpu.requiredText('product_name'),
    minorNumber: gpu.integer('minor_number'),
    memoryTotalMiB: memory?.number('total', 'MiB') ?? null,
    memoryUsedMiB: memory?.number('used', 'MiB') ?? null,
    migEnabled: migMode?.switch('current_mig') ?? null,
    migPending: migMode?.switch('pending_mig') ?? null,
    migDevices: readMigDevices(gpu),
    utilizationPercent: gpu.child('utilization')?.number('gpu_util', '%') ?? null,
    powerDrawW:
      power?.number('power_draw', 'W') ??
      power?.number('average_power_draw', 'W') ??
      power?.number('instant_power_draw', 'W') ??
      null,
    temperatureC: gpu.child('temperature')?.number('gpu_temp', 'C', { signed: true }) ?? null,
    health: readHealth(gpu),
    processes: (gpu.child('processes')?.children('process_info') ?? []).map(readProcess),
  };
}

function readHealth(gpu: XmlElement): SmiXmlHealth {
  const ecc = gpu.child('ecc_errors');
  const retired = gpu.child('retired_pages');
  return {
    eccVolatile: ecc ? readEccCounts(ecc.child('volatile')) : null,
    eccAggregate: ecc ? readEccCounts(ecc.child('aggregate')) : null,
    retiredPages: {
      singleBit: retired?.child('multiple_single_bit_retirement')?.integer('retired_count') ?? null,
      doubleBit: retired?.child('double_bit_retirement')?.integer('retired_count') ?? null,
      pending: retired?.switch('pending_retirement') ?? null,
    },
    throttleReasons: readThrottleReasons(gpu),
  };
}

/**
 * ECC counts of <volatile> or <aggregate>. Before driver 450 they are split by <single_bit> /
 * <double_bit> with a <total>; later, per memory as <sram_correctable>, <dram_uncorrectable>,
 * <sram_uncorrectable_parity> ..., summed here. Null when every count is N/A (ECC off).
 */
function readEccCounts(counts: XmlElement | undefined): SmiXmlHealth['eccVolatile'] {
  if (!counts) return null;
  const singleBit = counts.child('single_bit');
  const doubleBit = counts.child('double_bit');
  const result =
    singleBit || doubleBit
      ? {
          correctable: singleBit?.integer('total') ?? null,
          uncorrectable: doubleBit?.integer('total') ?? null,
        }
      : {
          correctable: sumOf(counts, (name) => /_correctable$/.test(name)),
          uncorrectable: sumOf(counts, (name) => /_uncorrectable(_[a-z]+)?$/.test(name)),
        };
  return result.correctable === null && result.uncorrectable === null ? null : result;
}

function sumOf(element: XmlElement, counts: (name: string) => boolean): number | null {
  const values = element
    .names()
    .filter(counts)
    .map((name) => element.integer(name))
    .filter((value): value is number => value !== null);
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0);
}

/** "Active" reasons of <clocks_event_reasons> (driver 535+) or <clocks_throttle_reasons>. */
function readThrottleReasons(gpu: XmlElement): string[] | null {
  const reasons = gpu.child('clocks_event_reasons') ?? gpu.child('clocks_throttle_reasons');
  if (!reasons) return null;
  return reasons
    .names()
    .filter((name) => reasons.text(name) === 'Active')
    .map((name) => name.replace(/^clocks_(event|throttle)_reason_/, ''));
}

/** <mig_devices> is "None" (MIG off), empty (MIG on, no instances) or absent (driver before MIG). */
function readMigDevices(gpu: XmlElement): SmiXmlMigDevice[] | null {
  const devices = gpu.child('mig_devices');
  if (!devices) return null;
  const list = devices.children('mig_device');
  if (list.length === 0) {
    const text = devices.ownText();
    if (text === 'None') return null;
    if (text === '') return [];
    throw new NvidiaOutputError(COMMAND, devices.path, 'expected <mig_device> elements or "None"', text);
  }
  return list.map((device) => {
    const memory = device.child('fb_memory_usage');
    return {
      index: device.requiredInteger('index'),
      gpuInstanceId: device.integer('gpu_instance_id'),
      computeInstanceId: device.integer('compute_instance_id'),
      memoryTotalMiB: memory?.number('total', 'MiB') ?? null,
      memoryUsedMiB: memory?.number('used', 'MiB') ?? null,
      multiprocessorCount:
        device.child('device_attributes')?.child('shared')?.integer('multiprocessor_count') ?? null,
    };
  });
}

function readProcess(process: XmlElement): SmiXmlProcess {
  const pid = process.requiredInteger('pid');
  if (pid === 0)
    throw new NvidiaOutputError(COMMAND, `${process.path} > <pid>`, 'expected a process id', '0');
  return {
    pid,
    type: process.text('type'),
    name: process.text('process_name') ?? '',
    usedMemoryMiB: process.number('used_memory', 'MiB'),
    gpuInstanceId: process.integer('gpu_instance_id'),
    computeInstanceId: process.integer('compute_instance_id'),
  };
}

function xmlSyntaxError(output: string, error: unknown): NvidiaOutputError {
  const message = error instanceof Error ? error.message : String(error);
  if (output.trim() === '') return new NvidiaOutputError(COMMAND, 'whole output', 'is empty');
  // fast-xml-parser reports elements left open at the end as "Invalid '[ "a", "b" ]' found."
  const unclosed = /^Invalid '(\[[\s\S]*\])' found/.exec(message);
  if (unclosed) {
    const open = (JSON.parse(unclosed[1]!) as string[]).join(' > ');
    const lines = output.split('\n').length;
    return new NvidiaOutputError(
      COMMAND,
      `end of output (line ${lines})`,
      `the XML ends inside <${open}> (output cut short?)`,
      output.slice(-80),
      { cause: error },
    );
  }
  const position = /:(\d+):(\d+|undefined)$/.exec(message);
  const line = position ? Number(position[1]) : null;
  const lines = output.trimEnd().split('\n');
  const found = line ? (lines[line - 1] ?? '') : output;
  const cutShort = line === lines.length && lines.length > 1 ? ' on the last line (output cut short?)' : '';
  return new NvidiaOutputError(
    COMMAND,
    line ? `line ${line}` : 'whole output',
    `not well-formed XML${cutShort}: ${message.replace(/:\d+:(\d+|undefined)$/, '').replace(/\.$/, '')}`,
    found,
    { cause: error },
  );
}

/**
 * One element of the parsed document, with the path that error messages name
 * ("<nvidia_smi_log> > <gpu> #2 > <fb_memory_usage>").
 */
class XmlElement {
  readonly #node: Record<string, unknown> | string;
  readonly path: string;

  private constructor(node: Record<string, unknown> | string, path: string) {
    this.#node = node;
    this.path = path;
  }

  static root(document: unknown, name: string): XmlElement {
    const node = (document as Record<string, unknown> | null)?.[name];
    if (node === undefined || Array.isArray(node) || (typeof node !== 'object' && typeof node !== 'string')) {
      throw new NvidiaOutputError(COMMAND, 'whole output', `expected a <${name}> document`);
    }
    return new XmlElement(node as Record<string, unknown> | string, `<${name}>`);
  }

  /** Text directly inside the element (an element holding only text is parsed as a string). */
  ownText(): string {
    if (typeof this.#node === 'string') return this.#node.trim();
    const text = this.#node['#text'];
    return typeof text === 'string' ? text.trim() : '';
  }

  /** The names of the child elements, in document order. */
  names(): string[] {
    return typeof this.#node === 'string' ? [] : Object.keys(this.#node).filter((name) => name !== '#text');
  }

  child(name: string): XmlElement | undefined {
    const value = this.#field(name);
    if (value === undefined) return undefined;
    if (Array.isArray(value)) return this.#wrap(value[0], `<${name}>`);
    return this.#wrap(value, `<${name}>`);
  }

  children(name: string): XmlElement[] {
    const value = this.#field(name);
    if (value === undefined) return [];
    const list = Array.isArray(value) ? value : [value];
    return list.map((item, i) => this.#wrap(item, `<${name}> #${i + 1}`));
  }

  /** The element's text, null when absent or a placeholder. */
  text(name: string): string | null {
    const value = this.#field(name);
    if (value === undefined) return null;
    if (typeof value !== 'string') this.#unexpected(name, 'expected text, found nested elements');
    return readingText(value as string);
  }

  requiredText(name: string): string {
    const text = this.text(name);
    if (text === null) this.#unexpected(name, 'is missing or has no value', String(this.#field(name) ?? ''));
    return text as string;
  }

  number(name: string, unit: string | null, options?: { signed?: boolean }): number | null {
    return readingNumber(this.#rawText(name), unit, this.#source(name), options);
  }

  integer(name: string): number | null {
    return readingInteger(this.#rawText(name), this.#source(name));
  }

  requiredInteger(name: string): number {
    const value = this.integer(name);
    if (value === null) this.#unexpected(name, 'is missing or has no value', String(this.#field(name) ?? ''));
    return value as number;
  }

  switch(name: string): boolean | null {
    return readingSwitch(this.#rawText(name), this.#source(name));
  }

  #field(name: string): unknown {
    return typeof this.#node === 'string' ? undefined : this.#node[name];
  }

  #rawText(name: string): string | undefined {
    const value = this.#field(name);
    if (value !== undefined && typeof value !== 'string')
      this.#unexpected(name, 'expected text, found nested elements');
    return value as string | undefined;
  }

  #wrap(value: unknown, step: string): XmlElement {
    // <processes /> and <processes></processes> parse as "".
    if (typeof value === 'string' || (typeof value === 'object' && value !== null && !Array.isArray(value))) {
      return new XmlElement(value as Record<string, unknown> | string, `${this.path} > ${step}`);
    }
    throw new NvidiaOutputError(COMMAND, `${this.path} > ${step}`, 'is not an element', String(value));
  }

  #source(name: string) {
    return { command: COMMAND, location: `${this.path} > <${name}>` };
  }

  #unexpected(name: string, problem: string, found = ''): never {
    throw new NvidiaOutputError(COMMAND, `${this.path} > <${name}>`, problem, found);
  }
}
