import {
  type Document,
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  Scalar,
  type ScalarTag,
  type Tags,
} from 'yaml';
import { firstAliasOffset, unusableYaml } from '../yamlFile.ts';
import { type LimitsProblem, type Location, problem } from './problems.ts';

/**
 * YAML as ds01-infra reads it: PyYAML's `yaml.safe_load`, which is YAML 1.1 with PyYAML's own
 * implicit types. The `yaml` package's 1.1 schema differs in places that change meanings, so its
 * bool/int/float/timestamp tags are replaced by PyYAML's rules (pyyaml/resolver.py):
 * - `y`/`n` are strings (the `yaml` package reads them as booleans; PyYAML does not);
 * - `1e3` and `1.5e3` are strings (PyYAML's floats need a dot and a signed exponent);
 * - `09` is a string (not octal, not decimal), `0123` is octal 83, `1:30` is sexagesimal 90;
 * - a repeated key is allowed, the later value wins (reported as a warning, see duplicateKeys).
 */

const pyFloatFormat = 'PYFLOAT';

const boolTrue: ScalarTag = {
  tag: 'tag:yaml.org,2002:bool',
  default: true,
  identify: (value) => value === true,
  test: /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/,
  resolve: () => true,
};

const boolFalse: ScalarTag = {
  tag: 'tag:yaml.org,2002:bool',
  default: true,
  identify: (value) => value === false,
  test: /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/,
  resolve: () => false,
};

/** PyYAML's construct_yaml_int. */
function resolvePyInt(source: string): number {
  let text = source.replaceAll('_', '');
  const sign = text.startsWith('-') ? -1 : 1;
  if (text.startsWith('-') || text.startsWith('+')) text = text.slice(1);
  if (text === '0') return 0;
  if (text.startsWith('0b')) return sign * Number.parseInt(text.slice(2), 2);
  if (text.startsWith('0x')) return sign * Number.parseInt(text.slice(2), 16);
  if (text.startsWith('0')) return sign * Number.parseInt(text, 8);
  if (text.includes(':')) return sign * sexagesimal(text);
  return sign * Number.parseInt(text, 10);
}

/** PyYAML's construct_yaml_float. */
function resolvePyFloat(source: string): number {
  let text = source.replaceAll('_', '').toLowerCase();
  const sign = text.startsWith('-') ? -1 : 1;
  if (text.startsWith('-') || text.startsWith('+')) text = text.slice(1);
  if (text === '.inf') return sign * Number.POSITIVE_INFINITY;
  if (text === '.nan') return Number.NaN;
  if (text.includes(':')) return sign * sexagesimal(text);
  return sign * Number(text);
}

function sexagesimal(text: string): number {
  return text.split(':').reduce((total, part) => total * 60 + Number(part), 0);
}

const pyInt: ScalarTag = {
  tag: 'tag:yaml.org,2002:int',
  default: true,
  identify: (value) => Number.isInteger(value),
  test: /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
  resolve: resolvePyInt,
};

const pyFloat: ScalarTag = {
  tag: 'tag:yaml.org,2002:float',
  default: true,
  // Marks the node, so that a float written as `1.0` can be printed back as Python prints it.
  format: pyFloatFormat,
  identify: (value) => typeof value === 'number',
  test: /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
  resolve: resolvePyFloat,
};

const timestampParts =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:[Tt]|[ \t]+)(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d*))?(?:[ \t]*(Z|[-+]\d{1,2}(?::\d{2})?))?)?$/;

const pyTimestamp: ScalarTag = {
  tag: 'tag:yaml.org,2002:timestamp',
  default: true,
  identify: (value) => value instanceof Date,
  test: /^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$/,
  resolve(source) {
    const match = timestampParts.exec(source);
    if (!match) return source;
    const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', zone] = match;
    const milliseconds = Number(`0.${fraction || '0'}`) * 1000;
    const utc = Date.UTC(+year!, +month! - 1, +day!, +hour, +minute, +second, Math.round(milliseconds));
    // PyYAML gives a naive datetime without a zone; DS01 reads it as UTC.
    if (!zone || zone === 'Z') return new Date(utc);
    const [zoneHours = 0, zoneMinutes = 0] = zone.slice(1).split(':').map(Number);
    const offset = (zoneHours * 60 + zoneMinutes) * 60_000 * (zone.startsWith('-') ? -1 : 1);
    return new Date(utc - offset);
  },
};

/** The `yaml` package's 1.1 tags with its implicit scalar types replaced by PyYAML's. */
function pyyamlTags(tags: Tags): Tags {
  const replaced = new Set([
    'tag:yaml.org,2002:bool',
    'tag:yaml.org,2002:int',
    'tag:yaml.org,2002:float',
    'tag:yaml.org,2002:timestamp',
  ]);
  const kept = tags.filter((tag) => typeof tag === 'string' || !replaced.has(tag.tag));
  return [...kept, boolTrue, boolFalse, pyFloat, pyInt, pyTimestamp];
}

/** `<<`: the `yaml` package gives its key the value Symbol(<<) when it reads it as a merge. */
function isMergeKey(key: unknown): boolean {
  return isScalar(key) && (key.source === '<<' || key.value === '<<') && key.type === 'PLAIN';
}

/** A path into a YAML document: map keys and sequence indexes. */
export type YamlPath = readonly (string | number)[];

/** A YAML file read as PyYAML reads it, which can say where each value was written. */
export class PythonYaml {
  readonly file: string;
  /** The document as `yaml.safe_load` returns it (null for an empty file). */
  readonly value: unknown;
  readonly #doc: Document.Parsed;
  readonly #lines: LineCounter;

  private constructor(file: string, doc: Document.Parsed, lines: LineCounter) {
    this.file = file;
    this.#doc = doc;
    this.#lines = lines;
    this.value = doc.toJS({ maxAliasCount: 1000 }) ?? null;
  }

  /** Parses `text` (named `file` in messages); YAML syntax errors come back as problems. */
  static parse(text: string, file: string): PythonYaml | { problems: LimitsProblem[] } {
    const lines = new LineCounter();
    const doc = parseDocument(text, {
      version: '1.1',
      customTags: pyyamlTags,
      lineCounter: lines,
      uniqueKeys: false,
      prettyErrors: false,
    });
    if (doc.errors.length > 0) {
      return {
        problems: doc.errors.map((error) => {
          const { line, col } = lines.linePos(error.pos[0]);
          const message = error.message.split('\n')[0] ?? error.message;
          return problem('error', { file, line, column: col }, '', `is not valid YAML: ${message}`, {
            expected: 'YAML as PyYAML reads it (yaml.safe_load)',
          });
        }),
      };
    }
    try {
      return new PythonYaml(file, doc, lines);
    } catch (error) {
      // Well-formed but not data (aliases expanded past the limit): one problem, never an exception.
      const { line, col } = lines.linePos(firstAliasOffset(doc));
      return {
        problems: [
          problem('error', { file, line, column: col }, '', unusableYaml(error), {
            expected: 'YAML as PyYAML reads it (yaml.safe_load)',
          }),
        ],
      };
    }
  }

  /** Where the value at `path` was written, or its key with `part: 'key'`; the nearest parent if absent. */
  locate(path: YamlPath, part: 'key' | 'value' = 'value'): Location {
    let node: unknown = this.#doc.contents;
    let found: Node | null = this.#doc.contents;
    for (const [index, segment] of path.entries()) {
      const entry = this.#entry(node, segment);
      if (!entry) break;
      const target = index === path.length - 1 && part === 'key' && entry.key ? entry.key : entry.value;
      if (!isNode(target)) break;
      found = target;
      node = entry.value;
    }
    return this.#at(found?.range?.[0] ?? 0);
  }

  /** True when the value at `path` was written as a float (`1.0`): Python prints it as `1.0`, not `1`. */
  isFloat(path: YamlPath): boolean {
    const node = this.#nodeAt(path);
    return node instanceof Scalar && node.format === pyFloatFormat;
  }

  /** The node holding the value at `path`, through aliases and `<<` merge keys. */
  #nodeAt(path: YamlPath): Node | undefined {
    let node: unknown = this.#doc.contents;
    for (const segment of path) {
      node = this.#entry(node, segment)?.value;
      if (!isNode(node)) return undefined;
    }
    return isNode(node) ? node : undefined;
  }

  /**
   * The key and value nodes of one entry of a mapping (or item of a sequence). As in PyYAML, a key
   * written in the mapping wins over one brought in by `<<`, and earlier merge sources win over later.
   */
  #entry(container: unknown, segment: string | number): { key?: Node; value: Node } | undefined {
    const node = this.#resolve(container);
    if (isSeq(node) && typeof segment === 'number') {
      const item = this.#resolve(node.items[segment]);
      return isNode(item) ? { value: item } : undefined;
    }
    if (!isMap(node)) return undefined;
    const own = node.items.find((pair) => isScalar(pair.key) && String(pair.key.value) === String(segment));
    if (own) {
      const value = this.#resolve(own.value);
      return isNode(value) ? { key: own.key as Node, value } : undefined;
    }
    for (const pair of node.items) {
      if (!isMergeKey(pair.key)) continue;
      const merged = this.#resolve(pair.value);
      const sources = isSeq(merged) ? merged.items : [merged];
      for (const source of sources) {
        const entry = this.#entry(source, segment);
        if (entry) return entry;
      }
    }
    return undefined;
  }

  #resolve(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.#doc) : node;
  }

  getIn(path: YamlPath): unknown {
    let value: unknown = this.value;
    for (const segment of path) {
      if (value === null || typeof value !== 'object') return undefined;
      value = (value as Record<string | number, unknown>)[segment];
    }
    return value;
  }

  /** Keys written twice in one mapping: PyYAML keeps the later value silently. */
  duplicateKeys(): { path: (string | number)[]; first: Location; second: Location }[] {
    const duplicates: { path: (string | number)[]; first: Location; second: Location }[] = [];
    const visit = (node: unknown, path: (string | number)[]) => {
      if (isMap(node)) {
        const seen = new Map<string, Node>();
        for (const pair of node.items) {
          if (!isScalar(pair.key)) continue;
          const key = String(pair.key.value);
          const earlier = seen.get(key);
          if (earlier && !isMergeKey(pair.key)) {
            duplicates.push({
              path: [...path, key],
              first: this.#at(earlier.range?.[0] ?? 0),
              second: this.#at(pair.key.range?.[0] ?? 0),
            });
          }
          seen.set(key, pair.key);
          visit(pair.value, [...path, key]);
        }
      } else if (isSeq(node)) {
        for (const [index, item] of node.items.entries()) visit(item, [...path, index]);
      }
    };
    visit(this.#doc.contents, []);
    return duplicates;
  }

  /** Map keys that YAML 1.1 reads as something other than text (`204214:`, `yes:`) at `path`. */
  nonTextKeys(path: YamlPath): { key: string; type: string; at: Location }[] {
    const node = this.#resolve(path.length === 0 ? this.#doc.contents : this.#nodeAt(path));
    if (!isMap(node)) return [];
    return node.items.flatMap((pair) =>
      isScalar(pair.key) && typeof pair.key.value !== 'string' && !isMergeKey(pair.key)
        ? [
            {
              key: String(pair.key.value),
              type:
                pair.key.value === null
                  ? 'null'
                  : pair.key.value instanceof Date
                    ? 'date'
                    : typeof pair.key.value,
              at: this.#at(pair.key.range?.[0] ?? 0),
            },
          ]
        : [],
    );
  }

  #at(offset: number): Location {
    const { line, col } = this.#lines.linePos(offset);
    return { file: this.file, line, column: col };
  }
}
