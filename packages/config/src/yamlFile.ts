import { dirname } from 'node:path';
import { Ds01Error } from '@ds01/errors';
import { type Document, isMap, isScalar, LineCounter, type Node, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { readConfigFile } from './configFileRead.ts';

/** One thing wrong in a configuration file, located for a human. */
export interface ConfigProblem {
  file: string;
  /** 1-based; 0 when the problem has no place in the file (e.g. the file is missing). */
  line: number;
  column: number;
  /** Dotted path of the key ('' for the whole document). */
  key: string;
  message: string;
  /** The known key closest to an unknown one. */
  suggestion?: string;
}

/** A configuration file that cannot be used; carries every problem found, not just the first. */
export class ConfigError extends Ds01Error {
  override name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[], hint = 'fix the file and run the command again') {
    super(problems.map(formatProblem).join('\n'), { hint });
    this.problems = problems;
  }
}

export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line > 0 ? `${problem.file}:${problem.line}:${problem.column}` : problem.file;
  const key = problem.key ? ` ${problem.key}:` : '';
  const suggestion = problem.suggestion ? ` (did you mean '${problem.suggestion}'?)` : '';
  return `${where}:${key} ${problem.message}${suggestion}`;
}

/**
 * Reads a YAML file and validates it with a zod schema. Every problem (YAML syntax, a wrong value,
 * an unknown key) is reported with file:line:column and the key; an unknown key also gets the
 * nearest known key. An empty file reads as {}.
 */
export function readYamlFile<Schema extends z.ZodType>(
  file: string,
  schema: Schema,
  options: { root?: string; maxBytes?: number } = {},
): z.output<Schema> {
  const read = readConfigFile(file, { root: options.root ?? dirname(file), maxBytes: options.maxBytes });
  const whole = (message: string) => new ConfigError([{ file, line: 0, column: 0, key: '', message }]);
  if (read.kind === 'absent') throw whole('cannot be read: it does not exist');
  if (read.kind === 'refused') {
    throw whole(read.code === 'EACCES' || read.code === 'EPERM' ? `cannot be read: ${read.why}` : read.why);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(read.bytes);
  } catch {
    throw whole('is not valid UTF-8 text');
  }
  return parseYaml(text, file, schema);
}

/** As readYamlFile, from text already in memory (`file` names it in messages). */
export function parseYaml<Schema extends z.ZodType>(
  text: string,
  file: string,
  schema: Schema,
): z.output<Schema> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number) => lineCounter.linePos(offset);
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((error) => {
        const { line, col } = at(error.pos[0]);
        return { file, line, column: col, key: '', message: `YAML syntax: ${firstLine(error.message)}` };
      }),
    );
  }
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (error) {
    const { line, col } = at(firstAliasOffset(doc));
    throw new ConfigError([{ file, line, column: col, key: '', message: unusableYaml(error) }]);
  }
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const problems: ConfigProblem[] = [];
  for (const issue of result.error.issues) {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      const parent = doc.getIn(path, true) as Node | undefined;
      for (const key of issue.keys) {
        const keyNode = isMap(parent)
          ? parent.items.find((pair) => isScalar(pair.key) && String(pair.key.value) === key)?.key
          : undefined;
        const { line, col } = at((keyNode as Node | undefined)?.range?.[0] ?? 0);
        const suggestion = nearest(key, knownKeys(schema, path));
        problems.push({
          file,
          line,
          column: col,
          key: [...path, key].join('.'),
          message: 'is not a known key',
          ...(suggestion ? { suggestion } : {}),
        });
      }
      continue;
    }
    const node = nodeAt(doc, path);
    const { line, col } = at(node?.range?.[0] ?? 0);
    problems.push({ file, line, column: col, key: path.join('.'), message: issue.message });
  }
  // In the order of the file, which is how people read and fix them.
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  throw new ConfigError(problems);
}

/** The node at a path, or its closest existing parent (a missing key is reported on its map). */
function nodeAt(doc: ReturnType<typeof parseDocument>, path: string[]): Node | undefined {
  for (let length = path.length; length >= 0; length--) {
    const node = (length === 0 ? doc.contents : doc.getIn(path.slice(0, length), true)) as Node | undefined;
    if (node && typeof node === 'object' && 'range' in node) return node;
  }
  return undefined;
}

/**
 * Why a well-formed YAML document cannot become data: `yaml` refuses to expand aliases past a limit
 * (the "billion laughs" of nested aliases), which no configuration of DS01 needs.
 */
export function unusableYaml(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return /alias count/i.test(message)
    ? 'expands aliases (*name) into too many values; write the values out instead of nesting aliases'
    : `cannot be read as data: ${firstLine(message)}`;
}

/** Where the first alias (`*name`) of a document is written: where an alias bomb starts (0: none). */
export function firstAliasOffset(doc: Document.Parsed | Document): number {
  let offset = 0;
  visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return offset;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

/** The keys an object schema accepts at a path (through nested objects, arrays and wrappers). */
function knownKeys(schema: z.ZodType, path: string[]): string[] {
  let current: unknown = schema;
  for (const segment of path) {
    current = unwrap(current);
    const { shape, element } = schemaParts(current);
    if (shape) current = shape[segment];
    else if (element && /^\d+$/.test(segment)) current = element;
    else return [];
  }
  return Object.keys(schemaParts(unwrap(current)).shape ?? {});
}

function schemaParts(schema: unknown): { shape?: Record<string, unknown>; element?: unknown } {
  const candidate = schema as { shape?: Record<string, unknown>; def?: { element?: unknown } } | undefined;
  return { shape: candidate?.shape, element: candidate?.def?.element };
}

/** Looks through optional(), nullable(), default() ... to the schema they wrap. */
function unwrap(schema: unknown): unknown {
  let current = schema as { def?: { innerType?: unknown } } | undefined;
  for (let depth = 0; depth < 10 && current?.def?.innerType; depth++) {
    current = current.def.innerType as typeof current;
  }
  return current;
}

/** The candidate closest to `word` by edit distance, if close enough to be a likely typo. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}
