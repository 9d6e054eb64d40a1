import { execFileSync } from 'node:child_process';
import { chmodSync, lchownSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePrivateDirectory, UnsafeDirectoryError } from '../src/index.ts';

/** ds01d's folders on real files: what it accepts, what it refuses, and why (as root, like ds01d). */
let root: string;
const NOBODY = 65534;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'ds01-private-dir-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('ensurePrivateDirectory', () => {
  it('creates a missing folder 0750 even under umask 000, inside /tmp (sticky, and ours below)', () => {
    const before = process.umask(0);
    try {
      ensurePrivateDirectory(join(root, 'a', 'b'), 'data dir', { create: true });
    } finally {
      process.umask(before);
    }
    expect(statSync(join(root, 'a')).mode & 0o777).toBe(0o750);
    expect(statSync(join(root, 'a', 'b')).mode & 0o777).toBe(0o750);
  });

  it('refuses a folder inside a sticky one when someone else owns the folder on the way', () => {
    const sticky = join(root, 'sticky');
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    const theirs = join(sticky, 'theirs');
    mkdirSync(theirs);
    mkdirSync(join(theirs, 'data'), { mode: 0o750 });
    execFileSync('chown', ['--', String(NOBODY), theirs]);
    expect(() => ensurePrivateDirectory(join(theirs, 'data'), 'data dir')).toThrow(UnsafeDirectoryError);
  });

  it('refuses a path through a link another user made, even to a good folder', () => {
    const good = join(root, 'good');
    mkdirSync(good, { mode: 0o750 });
    const link = join(root, 'link');
    symlinkSync(good, link);
    lchownSync(link, NOBODY, NOBODY);
    expect(() => ensurePrivateDirectory(link, 'data dir')).toThrow(/is owned by uid 65534/);
    lchownSync(link, 0, 0);
    expect(() => ensurePrivateDirectory(link, 'data dir')).not.toThrow();
  });

  it('refuses a file where a folder should be', () => {
    execFileSync('touch', ['--', join(root, 'file')]);
    expect(() => ensurePrivateDirectory(join(root, 'file'), 'data dir')).toThrow(/is not a folder/);
  });
});
