import type { Writable } from 'node:stream';
import { readerGone } from './closedPipe.ts';
import { type Column, renderTable } from './table.ts';
import { jsonSafe, terminalSafe } from './terminalText.ts';

/**
 * Where commands write results: tables for people, JSON for programs. Read commands take
 * `--json`: one JSON document for a result, JSON lines for a stream (`events tail --follow`).
 */
export class Output {
  readonly #out: Writable & { isTTY?: boolean; columns?: number };
  readonly #env: Record<string, string | undefined>;
  readonly #readerGone: AbortSignal;

  constructor(out: Writable & { isTTY?: boolean; columns?: number } = process.stdout, env = process.env) {
    this.#out = out;
    this.#env = env;
    this.#readerGone = readerGone(out);
  }

  /** The stream this output writes to (main listens on it for a reader that went away). */
  get stream(): Writable {
    return this.#out;
  }

  get isTTY(): boolean {
    return this.#out.isTTY === true;
  }

  /** The terminal's width; unlimited when the output goes to a pipe or file (unless COLUMNS says). */
  get width(): number {
    const fromEnv = Number(this.#env['COLUMNS']);
    if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
    return this.isTTY ? (this.#out.columns ?? 80) : Number.POSITIVE_INFINITY;
  }

  table<Row>(columns: readonly Column<Row>[], rows: readonly Row[], empty = '(nothing to show)'): void {
    this.line(rows.length === 0 ? empty : renderTable(columns, rows, this.width));
  }

  /** Label/value pairs, aligned: for one record (`ds01 store stats`). */
  fields(pairs: readonly (readonly [label: string, value: string])[]): void {
    const width = Math.max(...pairs.map(([label]) => label.length));
    for (const [label, value] of pairs) this.line(`${`${label}:`.padEnd(width + 1)}  ${value}`);
  }

  /** The document exactly (strings keep every character; controls are \u escapes in the JSON text). */
  json(document: unknown): void {
    this.#write(jsonSafe(JSON.stringify(document, null, 2)));
  }

  jsonLine(record: unknown): void {
    this.#write(jsonSafe(JSON.stringify(record)));
  }

  /**
   * One whole line in one write, so a reader never sees half of one; nothing once the reader is
   * gone. Control characters of text from outside are shown as escapes (terminalText.ts).
   */
  line(text = ''): void {
    this.#write(terminalSafe(text));
  }

  #write(text: string): void {
    if (this.#readerGone.aborted) return;
    this.#out.write(`${text}\n`);
  }
}
