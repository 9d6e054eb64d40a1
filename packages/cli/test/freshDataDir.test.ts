import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newDataDir, runDs01 } from './support/ds01Cli.ts';

// A newcomer's first minutes (issue #12 item 6): before ds01d ever ran there is no events.db; every
// read shows an empty view and says how to start DS01, instead of failing on the missing log.
const READS: readonly string[][] = [
  ['gpu', 'status'],
  ['containers'],
  ['usage'],
  ['audit'],
  ['gpu', 'who', '--at', '2026-12-01T00:00:00Z'],
  ['lifecycle'],
  ['events', 'tail'],
];

describe('read commands on a fresh data dir', () => {
  it.each(READS.map((args) => [args.join(' '), args] as const))(
    'ds01 %s answers an empty view and how to start DS01, exit 0',
    async (_name, args) => {
      const dataDir = newDataDir();
      const plain = await runDs01(dataDir, args);
      expect(plain.stderr).toContain('scripts/start.sh');
      expect(plain.stderr).toContain('systemctl start ds01d');
      expect(plain.code, plain.stderr).toBe(0);
      const json = await runDs01(dataDir, [...args, '--json']);
      expect(json.code, json.stderr).toBe(0);
      // One JSON document, or JSON lines (events tail: none when the log is empty).
      const documents = args[0] === 'events' ? json.stdout.split('\n').filter(Boolean) : [json.stdout];
      for (const document of documents) expect(() => JSON.parse(document)).not.toThrow();
      // The read made no log: a mistyped --data-dir stays empty.
      expect(existsSync(join(dataDir, 'events.db'))).toBe(false);
    },
  );

  it('a write still refuses to make a store ds01d never made', async () => {
    const dataDir = newDataDir();
    const write = await runDs01(dataDir, ['gpu', 'allocate', 'c1', '--user', 'alice']);
    expect(write.code).not.toBe(0);
    expect(existsSync(join(dataDir, 'events.db'))).toBe(false);
  });
});
