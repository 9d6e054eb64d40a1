/**
 * Text from outside DS01 (container names and labels from Docker, usernames and file contents,
 * values in events) reaches an admin's terminal. A control character in it is an instruction to
 * the terminal, not text: `\e[2J` clears the screen, `\e]0;…\a` retitles the window, `\r` and
 * right-to-left overrides hide what comes before. So every character that is not plain text is
 * shown as an escape (`\x1b`, `\u202e`) in tables and messages; `--json` keeps the value exact.
 */

/** C0 and C1 controls (but newline and tab), DEL, and the bidirectional overrides and isolates. */
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is escaped
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** The text with every unsafe character as a visible escape; newlines and tabs kept. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, escaped);
}

/**
 * JSON text whose strings hold no raw control, bidi or line-separator character (JSON.stringify
 * leaves C1 controls and U+2028 raw): the same document, character for character, once parsed.
 */
export function jsonSafe(json: string): string {
  return json.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function escaped(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}
