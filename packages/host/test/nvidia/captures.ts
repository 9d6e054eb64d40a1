import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSmiXml } from '../../src/nvidia/index.ts';

/** The real nvidia-smi captures (see ../fixtures/nvidia/SOURCES.md). */
export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'nvidia');

export type CaptureKind = 'list' | 'q-x' | 'query-gpu' | 'query-compute-apps';

export interface Capture {
  /** Path relative to the fixtures folder, e.g. "xml/a10g-q-x-processes-1.xml". */
  file: string;
  kind: CaptureKind;
  /** Captures of one machine at one time share a group: "<machine>-<n>". */
  group: string;
  text: string;
}

// "<machine>-<kind>[-<variant>]-<n>.<ext>", e.g. a100-sxm4-40gb-mig-list-legacy-uuid-1.txt
const NAME = /^(.+?)-(list|q-x|query-gpu|query-compute-apps)(-[a-z0-9-]+?)?-(\d+)\.(txt|xml|csv)$/;

/** Every capture in the fixtures folder, so that a new one dropped there is tested too. */
export function captures(kind?: CaptureKind): Capture[] {
  const found: Capture[] = [];
  for (const folder of ['text', 'xml', 'csv']) {
    for (const name of readdirSync(join(FIXTURES, folder)).sort()) {
      const match = NAME.exec(name);
      if (!match)
        throw new Error(`fixture ${folder}/${name} is not named <machine>-<kind>[-<variant>]-<n>.<ext>`);
      const capture = {
        file: `${folder}/${name}`,
        kind: match[2] as CaptureKind,
        group: `${match[1]}-${match[4]}`,
        text: readFileSync(join(FIXTURES, folder, name), 'utf8'),
      };
      if (!kind || capture.kind === kind) found.push(capture);
    }
  }
  return found;
}

export function fixture(file: string): string {
  return readFileSync(join(FIXTURES, file), 'utf8');
}

/** The error a call throws (the test fails when it throws none). */
export function thrownBy<E = Error>(run: () => unknown): E {
  try {
    run();
  } catch (error) {
    return error as E;
  }
  throw new Error('expected an error, but the call returned');
}

/** The error a promise rejects with (the test fails when it resolves). */
export async function rejectionOf<E = Error>(promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (error) {
    return error as E;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/**
 * `nvidia-smi -L` for a capture that has only XML: the line -L prints for each of its GPUs (no MIG
 * lines, so only for captures without MIG devices).
 */
export function listFor(xmlText: string): string {
  return parseSmiXml(xmlText)
    .gpus.map((gpu) => `GPU ${gpu.position}: ${gpu.name} (UUID: ${gpu.uuid})`)
    .join('\n');
}
