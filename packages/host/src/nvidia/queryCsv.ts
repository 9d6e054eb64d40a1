import { z } from 'zod';
import { NvidiaOutputError } from './errors.ts';
import { readingInteger, readingNumber, readingSwitch, readingText } from './readings.ts';

/** One column of a `--format=csv` header: "memory.total [MiB]" is field memory.total, unit MiB. */
export interface CsvColumn {
  field: string;
  unit: string | null;
}

export interface CsvRow {
  /** 1-based line in the output, for error messages. */
  line: number;
  /** Raw text by field name, unit and placeholders still in. */
  raw: Record<string, string>;
}

export interface QueryCsv {
  command: string;
  columns: CsvColumn[];
  rows: CsvRow[];
}

/**
 * Splits `nvidia-smi --query-…=… --format=csv` output into a header and rows. Values are separated by
 * ", " and never quoted, so a comma inside a value (a process name) shifts the columns: when one
 * column is free text, extra cells are joined back into it; otherwise a row with the wrong number of
 * cells is garbled output.
 */
export function parseQueryCsv(command: string, output: string, freeTextField?: string): QueryCsv {
  const lines = output.split('\n').map((line) => line.replace(/\r$/, ''));
  const headerLine = lines[0]?.trim() ?? '';
  if (headerLine === '')
    throw new NvidiaOutputError(command, 'line 1', 'expected a CSV header, found nothing');
  const columns = headerLine.split(',').map((cell) => readColumn(command, cell));
  if (columns.some((column) => !/^[A-Za-z_][\w.]*$/.test(column.field))) {
    throw new NvidiaOutputError(
      command,
      'line 1',
      'expected a CSV header of field names (run with --format=csv, without noheader)',
      headerLine,
    );
  }
  const freeText = freeTextField ? columns.findIndex((column) => column.field === freeTextField) : -1;
  const rows: CsvRow[] = [];
  lines.slice(1).forEach((line, i) => {
    if (line.trim() === '') return;
    const lineNumber = i + 2;
    let cells = line.split(',');
    const extra = cells.length - columns.length;
    if (extra > 0 && freeText >= 0) {
      cells = [
        ...cells.slice(0, freeText),
        cells.slice(freeText, freeText + extra + 1).join(','),
        ...cells.slice(freeText + extra + 1),
      ];
    }
    if (cells.length !== columns.length) {
      throw new NvidiaOutputError(
        command,
        `line ${lineNumber}`,
        `expected ${columns.length} values as in the header, found ${cells.length}`,
        line,
      );
    }
    const raw: Record<string, string> = {};
    columns.forEach((column, c) => {
      raw[column.field] = cells[c]!.trim();
    });
    rows.push({ line: lineNumber, raw });
  });
  return { command, columns, rows };
}

function readColumn(command: string, cell: string): CsvColumn {
  const match = /^\s*([^[\]]+?)\s*(?:\[([^\]]+)\])?\s*$/.exec(cell);
  if (!match)
    throw new NvidiaOutputError(command, 'line 1', 'expected a header cell like "memory.used [MiB]"', cell);
  return { field: match[1]!, unit: match[2] ?? null };
}

/** Typed access to one row's values, errors naming the line and the column. */
class RowReader {
  readonly #csv: QueryCsv;
  readonly #row: CsvRow;
  constructor(csv: QueryCsv, row: CsvRow) {
    this.#csv = csv;
    this.#row = row;
  }
  #source(field: string) {
    return { command: this.#csv.command, location: `line ${this.#row.line}, column '${field}'` };
  }
  #unit(field: string): string | null {
    return this.#csv.columns.find((column) => column.field === field)?.unit ?? null;
  }
  text(field: string): string | null {
    return readingText(this.#row.raw[field]);
  }
  number(field: string, options?: { signed?: boolean }): number | null {
    return readingNumber(this.#row.raw[field], this.#unit(field), this.#source(field), options);
  }
  integer(field: string): number | null {
    return readingInteger(this.#row.raw[field], this.#source(field));
  }
  switch(field: string): boolean | null {
    return readingSwitch(this.#row.raw[field], this.#source(field));
  }
  required<T>(field: string, value: T | null): T {
    if (value === null)
      this.fail(field, field in this.#row.raw ? 'has no value' : 'is missing from the query');
    return value as T;
  }
  fail(field: string, problem: string): never {
    throw new NvidiaOutputError(
      this.#csv.command,
      `line ${this.#row.line}, column '${field}'`,
      problem,
      this.#row.raw[field] ?? '',
    );
  }
}

/** The --query-gpu fields the probe asks for; any other field a query asked for is kept in `fields`. */
export const QUERY_GPU_FIELDS = [
  'index',
  'uuid',
  'name',
  'pci.bus_id',
  'memory.total',
  'memory.used',
  'utilization.gpu',
  'power.draw',
  'temperature.gpu',
  'mig.mode.current',
] as const;

export const QueryGpuRowSchema = z.object({
  index: z.number().int().nonnegative().nullable(),
  uuid: z.string().nullable(),
  name: z.string().nullable(),
  pciBusId: z.string().nullable(),
  memoryTotalMiB: z.number().nonnegative().nullable(),
  memoryUsedMiB: z.number().nonnegative().nullable(),
  /** null on a MIG-enabled GPU ("[N/A]"): it has no whole-GPU utilisation. */
  utilizationPercent: z.number().nonnegative().nullable(),
  powerDrawW: z.number().nonnegative().nullable(),
  temperatureC: z.number().nullable(),
  migEnabled: z.boolean().nullable(),
  /** Every field of the row by name, placeholders as null, units left in. */
  fields: z.record(z.string(), z.string().nullable()),
});
export type QueryGpuRow = z.infer<typeof QueryGpuRowSchema>;

/**
 * Parses `nvidia-smi --query-gpu=<fields> --format=csv`, one row per GPU. The fields DS01 reads are
 * typed (absent from the query or a placeholder: null); all others are kept as text in `fields`.
 */
export function parseQueryGpuCsv(output: string): QueryGpuRow[] {
  const csv = parseQueryCsv('nvidia-smi --query-gpu', output);
  return csv.rows.map((row) => {
    const read = new RowReader(csv, row);
    return {
      index: read.integer('index'),
      uuid: read.text('uuid'),
      name: read.text('name'),
      pciBusId: read.text('pci.bus_id'),
      memoryTotalMiB: read.number('memory.total'),
      memoryUsedMiB: read.number('memory.used'),
      utilizationPercent: read.number('utilization.gpu'),
      powerDrawW: read.number('power.draw'),
      temperatureC: read.number('temperature.gpu', { signed: true }),
      migEnabled: read.switch('mig.mode.current'),
      fields: Object.fromEntries(Object.keys(row.raw).map((field) => [field, read.text(field)])),
    };
  });
}

/** The --query-compute-apps fields the probe asks for. */
export const QUERY_COMPUTE_APPS_FIELDS = ['gpu_uuid', 'pid', 'process_name', 'used_gpu_memory'] as const;

export const ComputeAppSchema = z.object({
  pid: z.number().int().positive(),
  /** The parent GPU's UUID, also for a process on a MIG device: this CSV has no MIG column. */
  gpuUuid: z.string(),
  processName: z.string(),
  usedMemoryMiB: z.number().nonnegative().nullable(),
});
export type ComputeApp = z.infer<typeof ComputeAppSchema>;

/** Parses `nvidia-smi --query-compute-apps=<fields incl. pid, gpu_uuid> --format=csv`. */
export function parseQueryComputeAppsCsv(output: string): ComputeApp[] {
  const csv = parseQueryCsv('nvidia-smi --query-compute-apps', output, 'process_name');
  return csv.rows.map((row) => {
    const read = new RowReader(csv, row);
    const pid = read.required('pid', read.integer('pid'));
    if (pid === 0) read.fail('pid', 'expected a process id');
    return {
      pid,
      gpuUuid: read.required('gpu_uuid', read.text('gpu_uuid')),
      processName: read.text('process_name') ?? '',
      usedMemoryMiB: read.number('used_gpu_memory'),
    };
  });
}
