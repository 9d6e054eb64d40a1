import { statSync } from 'node:fs';
import { whyUnreachable } from '@ds01/event-store';
import { CliError } from '../errors.ts';

/**
 * Refuses a write on a data dir without a store. Read commands already refuse a missing store; a
 * write used to create one, so `--data-dir /var/lib/ds01-typo gpu allocate` granted a GPU held in
 * the real store.
 */
export function requireExistingStore(path: string): void {
  const why = whyUnreachable(path);
  if (why) throw new CliError(`the DS01 store ${path}: ${why}`);
  let size = 0;
  try {
    size = statSync(path).size;
  } catch {
    // absent: said below
  }
  if (size === 0) {
    throw new CliError(`no DS01 store at ${path}; ds01d creates it; check --data-dir`, {
      hint: 'ds01 store stats shows where this DS01 keeps its log (DS01_DATA_DIR, data_dir in ds01.yaml)',
    });
  }
}
