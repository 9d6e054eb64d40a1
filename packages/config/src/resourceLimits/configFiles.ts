import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readConfigFile } from '../configFileRead.ts';
import { ConfigError } from '../yamlFile.ts';
import { problem } from './problems.ts';

/** The files of the lab's resource limits, relative to their folder (ds01-infra's config/runtime). */
export const limitsFile = 'resource-limits.yaml';
export const userOverridesFile = 'user-overrides.yaml';
export const exemptionsFile = 'lifecycle-exemptions.yaml';
export const groupOverridesFile = 'group-overrides.txt';
export const groupsDir = 'groups';
export const membersFileOf = (group: string) => `${groupsDir}/${group}.members`;

/**
 * The configuration files as read at one moment: their text and sha256 by path relative to the
 * folder. Parsing works on this (pure), so a watcher can hash, compare and re-apply files without
 * reading them twice, and tests can hand files in directly.
 */
export interface ConfigFiles {
  /** The folder, as the caller named it: file names in messages start with it. */
  dir: string;
  texts: ReadonlyMap<string, string>;
  sha256: ReadonlyMap<string, string>;
  /** Files that exist but could not be read (e.g. a members file only admins may read), and why. */
  unreadable: ReadonlyMap<string, string>;
  /**
   * Files DS01 refuses to read (a symbolic link out of the folder, a FIFO, over the size limit), and
   * why: an error, whatever the file, since what they hold is unknown and must not be guessed.
   */
  refused: ReadonlyMap<string, string>;
}

/**
 * The folder holding resource-limits.yaml. `dir` may be that folder, or a ds01-infra checkout's
 * `config/` or the checkout itself (/opt/ds01-infra), where the files live in `config/runtime/`.
 */
export function locateLimitsDir(dir: string): string {
  const candidates = [dir, join(dir, 'runtime'), join(dir, 'config', 'runtime')];
  const found = candidates.find((candidate) => existsSync(join(candidate, limitsFile)));
  if (found) return found;
  throw new ConfigError(
    [
      problem('error', { file: dir, line: 0, column: 0 }, '', `holds no ${limitsFile}`, {
        expected: `${limitsFile} in ${candidates.join(', or ')}`,
      }),
    ],
    'pass the folder that holds resource-limits.yaml (ds01-infra: /opt/ds01-infra/config/runtime) with --config-dir',
  );
}

/**
 * Reads every file of the resource limits in `dir` (see locateLimitsDir); absent files are left out.
 * Each is read by readConfigFile (regular files under the size limit, no link out of the folder).
 */
export function readConfigFiles(dir: string, options: { maxBytes?: number } = {}): ConfigFiles {
  const root = locateLimitsDir(dir);
  const texts = new Map<string, string>();
  const sha256 = new Map<string, string>();
  const unreadable = new Map<string, string>();
  const refused = new Map<string, string>();
  const names = [limitsFile, userOverridesFile, exemptionsFile, groupOverridesFile, ...membersFiles(root)];
  for (const name of names) {
    const read = readConfigFile(join(root, name), { root, ...options });
    if (read.kind === 'absent') continue;
    if (read.kind === 'refused') {
      // Permission denied is what ds01-infra meets too (a members file only root may read).
      if (read.code === 'EACCES' || read.code === 'EPERM') unreadable.set(name, read.why);
      else refused.set(name, read.why);
      continue;
    }
    sha256.set(name, createHash('sha256').update(read.bytes).digest('hex'));
    try {
      // ignoreBOM keeps a byte-order mark in the text: a members file keeps it as Python does.
      texts.set(name, new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(read.bytes));
    } catch {
      unreadable.set(name, 'is not valid UTF-8 text');
    }
  }
  return { dir: root, texts, sha256, unreadable, refused };
}

/** `groups/*.members`, sorted. */
function membersFiles(root: string): string[] {
  try {
    return readdirSync(join(root, groupsDir))
      .filter((name) => name.endsWith('.members'))
      .sort()
      .map((name) => `${groupsDir}/${name}`);
  } catch {
    return [];
  }
}

/** Builds a ConfigFiles from texts in memory (tests, and a watcher trying a change before applying it). */
export function configFilesFrom(dir: string, texts: Readonly<Record<string, string>>): ConfigFiles {
  const entries = Object.entries(texts);
  return {
    dir,
    texts: new Map(entries),
    sha256: new Map(entries.map(([name, text]) => [name, createHash('sha256').update(text).digest('hex')])),
    unreadable: new Map(),
    refused: new Map(),
  };
}
