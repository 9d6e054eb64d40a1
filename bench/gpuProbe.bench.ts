// The GPU probe's parsing against a bare fast-xml-parser parse of the same XML, in the same run.
// DS01's side is what the gpu-sampler does with each probe's output: validate and parse the XML,
// read the fields it needs (placeholders to null, units checked), parse `nvidia-smi -L`, join the
// two into the inventory and place the processes on their slots. nvidia-smi itself (10–20 ms per call
// with persistence mode, seconds without) is not measured: only what DS01 adds to it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import {
  buildInventory,
  gpuProcessesFromXml,
  parseSmiList,
  parseSmiXml,
} from '../packages/host/src/nvidia/index.ts';
import { listFor } from '../packages/host/test/nvidia/captures.ts';
import type { BenchContext, BenchFile, BenchResult } from './lib/benchFile.ts';
import { measure } from './lib/measure.ts';

const FIXTURES = join(import.meta.dirname, '..', 'packages', 'host', 'test', 'fixtures', 'nvidia');
const read = (file: string) => readFileSync(join(FIXTURES, file), 'utf8');

const captures = [
  {
    name: 'A100 80GB with 4 MIG slots: -q -x + -L joined',
    xml: read('xml/a100-sxm4-80gb-mig-q-x-1.xml'),
    // The -L lines of the GPU the XML capture kept (its publisher trimmed it to GPU 0).
    list: read('text/a100-sxm4-80gb-mig-list-gpu0-1.txt'),
  },
  (() => {
    const xml = read('xml/tesla-k80-x4-q-x-processes-1.xml');
    return { name: '4 GPUs with processes (K80, 56 KB): -q -x + -L joined', xml, list: listFor(xml) };
  })(),
];

const bench: BenchFile = {
  name: 'GPU probe parsing (nvidia-smi -q -x and -L)',
  description:
    'Parsing one probe of the gpu-sampler: `ds01` validates and parses the `-q -x` XML, reads the fields ' +
    'it needs, parses `-L` and joins both into the inventory and the processes; `bare fast-xml-parser` ' +
    'only parses the same XML into objects (default options). Events here are probes parsed. ' +
    'The target: parsing a probe costs less than one nvidia-smi call (10–20 ms): ≥ 100 probes/s, 10 ms each.',
  async run(context: BenchContext): Promise<BenchResult[]> {
    const probesPerRepetition = context.quick ? 20 : 100;
    const repetitions = context.quick ? 5 : 20;
    const results: BenchResult[] = [];
    for (const capture of captures) {
      const bare = new XMLParser();
      results.push(
        await measure({
          name: capture.name,
          variant: 'bare fast-xml-parser',
          eventsPerRepetition: probesPerRepetition,
          warmup: 3,
          repetitions,
          run: () => {
            for (let i = 0; i < probesPerRepetition; i++) bare.parse(capture.xml);
          },
        }),
      );
      results.push(
        await measure({
          name: capture.name,
          variant: 'ds01',
          eventsPerRepetition: probesPerRepetition,
          warmup: 3,
          repetitions,
          run: () => {
            for (let i = 0; i < probesPerRepetition; i++) {
              const xml = parseSmiXml(capture.xml);
              const inventory = buildInventory({ list: parseSmiList(capture.list), xml });
              gpuProcessesFromXml(inventory, xml);
            }
          },
          baseline: 'bare fast-xml-parser',
          targetEventsPerSecond: 100,
        }),
      );
    }
    return results;
  },
};

export default bench;
