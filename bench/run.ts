// Runs every bench/*.bench.ts (or those named: `npm run bench -- eventStore`), prints the results
// and regenerates their sections of BENCHMARKS.md. `--quick` scales the work down for a smoke run
// (its numbers are printed but not written to BENCHMARKS.md).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BenchFile } from './lib/benchFile.ts';
import { describeMachine } from './lib/machine.ts';
import { type BenchSection, ratioToBaseline, targetVerdict, updateBenchmarksMarkdown } from './lib/report.ts';

const benchDir = import.meta.dirname;
const root = resolve(benchDir, '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.filter((arg) => !arg.startsWith('--'));
// A real disk, not tmpfs: durable appends are measured with fsync (var/ is ignored by git).
const workRoot = process.env.DS01_BENCH_DIR ?? join(root, 'var', 'bench');

const files = readdirSync(benchDir)
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => only.length === 0 || only.includes(name.replace(/\.bench\.ts$/, '')))
  .sort();
if (files.length === 0) {
  console.error(`no bench files${only.length ? ` named ${only.join(', ')}` : ''} in ${benchDir}`);
  process.exit(2);
}

const sections: BenchSection[] = [];
for (const file of files) {
  const key = file.replace(/\.bench\.ts$/, '');
  const bench = (await import(join(benchDir, file))).default as BenchFile;
  if (typeof bench?.name !== 'string' || typeof bench.run !== 'function') {
    console.error(`${file}: its default export must be { name, run(context) } (see bench/lib/benchFile.ts)`);
    process.exit(2);
  }
  const workDir = join(workRoot, key);
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  console.log(`\n${bench.name} (${file})${quick ? ' — quick' : ''}`);
  const started = Date.now();
  try {
    const results = await bench.run({ workDir, quick });
    for (const result of results) {
      const ratio = ratioToBaseline(result, results);
      console.log(
        `  ${result.name} [${result.variant}]: ${Math.round(result.eventsPerSecond).toLocaleString('en-US')} events/s, ` +
          `median ${result.medianMs.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, ` +
          `CPU ${result.cpuMicrosPerEvent.toFixed(1)} µs/event` +
          `${ratio === undefined ? '' : `, ratio ${ratio.toFixed(2)}`} ${targetVerdict(result, ratio)}`,
      );
    }
    sections.push({
      key,
      name: bench.name,
      ...(bench.description ? { description: bench.description } : {}),
      results,
      machine: describeMachine(workDir),
      date: new Date(),
    });
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  console.log(`  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

if (quick) {
  console.log('\n--quick: BENCHMARKS.md left as it is');
} else {
  const path = join(root, 'BENCHMARKS.md');
  const existing = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  writeFileSync(path, updateBenchmarksMarkdown(existing, sections));
  console.log(`\nwrote ${path}`);
}
