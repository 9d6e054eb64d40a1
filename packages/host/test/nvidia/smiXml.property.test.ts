import { GpuInventorySchema } from '@ds01/domain';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { anyText, check, mutationOf, resultOrTypedError } from '../../../../test/support/fuzz.ts';
import {
  buildInventory,
  GpuProcessSchema,
  gpuProcessesFromXml,
  NvidiaInconsistentOutputError,
  NvidiaOutputError,
  parseSmiList,
  parseSmiXml,
  SmiXmlLogSchema,
} from '../../src/nvidia/index.ts';
import { captures, fixture } from './captures.ts';

const COMMAND = 'nvidia-smi -q -x';

/** A refusal names the command and where: "nvidia-smi -q -x: <nvidia_smi_log> > <gpu> #1 > <uuid>: …". */
function isOutputError(error: unknown): boolean {
  return (
    error instanceof NvidiaOutputError &&
    error.command === COMMAND &&
    error.location !== '' &&
    error.message.startsWith(`${COMMAND}: ${error.location}: `)
  );
}

function parsesOrRefuses(text: string): void {
  const outcome = resultOrTypedError(() => parseSmiXml(text), isOutputError, text);
  if ('value' in outcome) SmiXmlLogSchema.parse(outcome.value);
}

describe('parseSmiXml on any input (property)', () => {
  it('arbitrary text and bytes: a reading or an NvidiaOutputError naming the element', () => {
    check(anyText(), parsesOrRefuses, 200);
  });

  it('arbitrary text inside the document element', () => {
    check(
      anyText(200).map((inner) => `<?xml version="1.0" ?>\n<nvidia_smi_log>${inner}</nvidia_smi_log>`),
      parsesOrRefuses,
      200,
    );
  });

  it.each(captures('q-x').map((capture) => [capture.file, capture.text]))(
    'mutations of the real capture %s',
    (_file, text) => {
      check(mutationOf(text), parsesOrRefuses, 60);
    },
  );

  it('odd values where numbers, switches and ids go', () => {
    const xml = fixture('xml/a100-sxm4-80gb-mig-q-x-1.xml');
    const value = fc.oneof(
      anyText(12),
      fc.constantFrom('-1', '1e400', '99999999999999999999', '0x10', '1.5', 'NaN', '[N/A]', '', ' 7 ', '-0'),
    );
    const element = fc.constantFrom(
      'index',
      'gpu_instance_id',
      'pid',
      'total',
      'current_mig',
      'gpu_util',
      'used',
    );
    check(
      fc.tuple(element, value, fc.nat()).map(([name, text, nth]) => {
        let seen = -1;
        return xml.replace(new RegExp(`<${name}>[^<]*</${name}>`, 'g'), (original) =>
          ++seen === nth % 8 ? `<${name}>${text}</${name}>` : original,
        );
      }),
      parsesOrRefuses,
      150,
    );
  });
});

describe('-L joined with a damaged -q -x (property)', () => {
  const list = parseSmiList(fixture('text/a100-sxm4-80gb-mig-list-gpu0-1.txt'));
  const xml = fixture('xml/a100-sxm4-80gb-mig-q-x-1.xml');

  it('an inventory and processes that fit their schemas, or a typed refusal', () => {
    check(
      mutationOf(xml),
      (text) => {
        const outcome = resultOrTypedError(
          () => {
            const parsed = parseSmiXml(text);
            const inventory = GpuInventorySchema.parse(buildInventory({ list, xml: parsed }));
            for (const process of gpuProcessesFromXml(inventory, parsed)) GpuProcessSchema.parse(process);
            return inventory;
          },
          (error) => isOutputError(error) || error instanceof NvidiaInconsistentOutputError,
          text,
        );
        return void outcome;
      },
      80,
    );
  });
});
