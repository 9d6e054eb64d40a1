import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labConfigDir, runDs01 } from '../support/ds01d.ts';
import { storeWithInventory } from '../support/recordedFacts.ts';

/**
 * Moments a user types (issue #16, finding 10): a day that does not exist is refused, never rolled
 * over into the next month, and a history query refuses a moment that has not happened yet.
 */

let root: string;
let dataDir: string;
let configDir: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ds01-hostile-dates-'));
  dataDir = join(root, 'data');
  mkdirSync(dataDir);
  configDir = labConfigDir(join(root, 'config'), { host: 'gpu01' });
  await (await storeWithInventory(dataDir)).close();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const who = (at: string) => runDs01(['gpu', 'who', '--at', at], { dataDir, configDir });

describe('gpu who --at', { timeout: 120_000 }, () => {
  it.each([
    ['2026-02-30 14:00', '2026-02 has no day 30 (it has 28)'],
    ['2026-04-31', '2026-04 has no day 31 (it has 30)'],
    ['2024-02-30T00:00Z', '2024-02 has no day 30 (it has 29)'],
    ['2026-13-01', 'month 13 does not exist'],
    ['2026-03-02 24:00', '24:00 is not a time of day'],
  ])('%s is refused: %s', async (at, why) => {
    const { code, stdout, stderr } = await who(at);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(`--at '${at}' is no moment: ${why}`);
  });

  it('a moment in the future is refused, not answered as "still held"', async () => {
    const { code, stdout, stderr } = await who('2099-01-01 00:00');
    expect(code).toBe(1);
    expect(stdout).not.toContain('still held');
    expect(stderr).toMatch(
      /--at '2099-01-01 00:00' is in the future \(2099-01-01T.*\); the log holds only what happened/,
    );
  });

  it('a real past moment, and a leap day, are answered', async () => {
    for (const at of ['2024-02-29 12:00', '1h ago', 'now']) {
      const { code, stderr } = await who(at);
      expect(code, `${at}: ${stderr}`).toBe(0);
    }
  });
});
