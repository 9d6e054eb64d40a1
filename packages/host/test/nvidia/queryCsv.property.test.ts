import fc from 'fast-check';
import { describe, it } from 'vitest';
import { anyText, check, mutationOf, resultOrTypedError } from '../../../../test/support/fuzz.ts';
import {
  ComputeAppSchema,
  NvidiaOutputError,
  parseQueryComputeAppsCsv,
  parseQueryGpuCsv,
  QueryGpuRowSchema,
} from '../../src/nvidia/index.ts';
import { captures } from './captures.ts';

/** A refusal names the query and the line (and column): "nvidia-smi --query-gpu: line 3, column 'pid': …". */
function refusal(command: string) {
  return (error: unknown) =>
    error instanceof NvidiaOutputError &&
    error.command === command &&
    /^line \d+/.test(error.location) &&
    error.message.startsWith(`${command}: ${error.location}: `);
}

function gpuRowsOrRefusal(text: string): void {
  const outcome = resultOrTypedError(() => parseQueryGpuCsv(text), refusal('nvidia-smi --query-gpu'), text);
  if ('value' in outcome) for (const row of outcome.value) QueryGpuRowSchema.parse(row);
}

function appsOrRefusal(text: string): void {
  const outcome = resultOrTypedError(
    () => parseQueryComputeAppsCsv(text),
    refusal('nvidia-smi --query-compute-apps'),
    text,
  );
  if ('value' in outcome) for (const app of outcome.value) ComputeAppSchema.parse(app);
}

describe('nvidia-smi --query-… --format=csv on any input (property)', () => {
  it('arbitrary text and bytes: rows or an NvidiaOutputError naming line and column', () => {
    check(anyText(), gpuRowsOrRefusal, 150);
    check(anyText(), appsOrRefusal, 150);
  });

  it('a header DS01 reads above arbitrary rows', () => {
    const header =
      'index, uuid, name, memory.total [MiB], memory.used [MiB], utilization.gpu [%], power.draw [W], temperature.gpu, mig.mode.current';
    check(
      anyText(200).map((rows) => `${header}\n${rows}`),
      gpuRowsOrRefusal,
      150,
    );
    check(
      anyText(200).map((rows) => `gpu_uuid, pid, process_name, used_gpu_memory [MiB]\n${rows}`),
      appsOrRefusal,
      150,
    );
  });

  it.each(captures('query-gpu').map((capture) => [capture.file, capture.text]))(
    'mutations of the real capture %s',
    (_file, text) => check(mutationOf(text), gpuRowsOrRefusal, 40),
  );

  it.each(captures('query-compute-apps').map((capture) => [capture.file, capture.text]))(
    'mutations of the real capture %s',
    (_file, text) => check(mutationOf(text), appsOrRefusal, 150),
  );

  it('odd values in the columns DS01 types', () => {
    const value = fc.oneof(
      anyText(10),
      fc.constantFrom('-1', '99999999999999999999', '1e3', '[N/A]', 'Enabled', 'Yes', '', '0', '-0', '3.5'),
    );
    check(
      fc
        .array(value, { minLength: 4, maxLength: 4 })
        .map(([uuid, pid, name, memory]) =>
          [
            'gpu_uuid, pid, process_name, used_gpu_memory [MiB]',
            `${uuid}, ${pid}, ${name}, ${memory} MiB`,
          ].join('\n'),
        ),
      appsOrRefusal,
      200,
    );
  });
});
