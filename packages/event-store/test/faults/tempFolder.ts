import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/** A folder of its own for one test file, removed afterwards. Returns a path maker. */
export function useTempFolder(label: string): (name: string) => string {
  const folder = mkdtempSync(join(tmpdir(), `ds01-${label}-`));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));
  return (name) => join(folder, name);
}
