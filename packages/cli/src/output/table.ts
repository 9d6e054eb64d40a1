import { terminalSafe } from './terminalText.ts';

/** One column of a table: how to get its text from a row, and how it behaves when space is short. */
export interface Column<Row> {
  header: string;
  value(row: Row): string;
  align?: 'left' | 'right';
  /** May be cut (with …) to fit the width; by default only the last column is. */
  shrink?: boolean;
}

const GAP = '  ';
const MIN_SHRUNK = 8;

/**
 * Renders rows as aligned columns under upper-case headers (like `docker ps`), no wider than
 * `width`: shrinkable columns are cut with an ellipsis, widest first.
 */
export function renderTable<Row>(
  columns: readonly Column<Row>[],
  rows: readonly Row[],
  width = Number.POSITIVE_INFINITY,
): string {
  const cells = rows.map((row) => columns.map((column) => oneLine(column.value(row))));
  const headers = columns.map((column) => column.header.toUpperCase());
  const widths = headers.map((header, i) => Math.max(header.length, ...cells.map((row) => row[i]!.length)));
  const shrinkable = columns.map((column, i) => column.shrink ?? i === columns.length - 1);
  fit(widths, shrinkable, width - GAP.length * (columns.length - 1));
  const render = (values: readonly string[]) =>
    values
      .map((value, i) => {
        const text = truncate(value, widths[i]!);
        const last = i === values.length - 1;
        if (columns[i]!.align === 'right') return text.padStart(widths[i]!);
        return last ? text : text.padEnd(widths[i]!);
      })
      .join(GAP)
      .trimEnd();
  return [render(headers), ...cells.map(render)].join('\n');
}

/** Shrinks the widest shrinkable column, one character at a time, until the total fits. */
function fit(widths: number[], shrinkable: readonly boolean[], available: number): void {
  let excess = widths.reduce((sum, w) => sum + w, 0) - available;
  while (excess > 0) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++) {
      if (shrinkable[i] && widths[i]! > MIN_SHRUNK && (widest < 0 || widths[i]! > widths[widest]!))
        widest = i;
    }
    if (widest < 0) return; // nothing left to cut: the terminal is too narrow for the table
    widths[widest]! -= 1;
    excess -= 1;
  }
}

export function truncate(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width <= 1) return text.slice(0, width);
  return `${text.slice(0, width - 1).trimEnd()}…`;
}

/**
 * Table cells are one line: newlines and tabs would break the columns, and a control character
 * from outside (a label, a name) is shown as an escape before the width is measured.
 */
function oneLine(text: string): string {
  return terminalSafe(text.replace(/[\r\n\t]+/g, ' '));
}
