import { join } from 'node:path';
import { type ChildResult, startChild } from './childProcess.ts';
import type { Site } from './site.ts';

const DS01 = join(import.meta.dirname, '..', '..', 'packages', 'cli', 'bin', 'ds01.js');

/** `ds01 --data-dir … --config-dir … ARGS` on this Node; `killAfterMs` SIGKILLs it mid-command. */
export function runDs01(
  site: Site,
  args: readonly string[],
  options: { killAfterMs?: number } = {},
): Promise<ChildResult & { killed: boolean }> {
  const running = startChild(process.execPath, [
    DS01,
    '--data-dir',
    site.dataDir,
    '--config-dir',
    site.configDir,
    ...args,
  ]);
  let timer: NodeJS.Timeout | undefined;
  if (options.killAfterMs !== undefined) timer = setTimeout(() => running.kill(), options.killAfterMs);
  return running.done.then((result) => {
    clearTimeout(timer);
    return { ...result, killed: result.signal === 'SIGKILL' };
  });
}

/** The first line of what a command said on stderr (for the report). */
export function firstLine(text: string): string {
  return text.split('\n').find((line) => line.trim() !== '') ?? '(nothing on stderr)';
}
