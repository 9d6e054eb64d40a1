/** One command of a README's ```sh block, with its trailing comment removed. */
export interface ReadmeCommand {
  command: string;
  /** 1-based line in the README. */
  line: number;
}

/**
 * Every command line of every ```sh code block: blank lines and whole-line comments are skipped, a
 * trailing ` # comment` outside quotes is cut (`--at "3d ago"   # who held ...` keeps its quotes).
 */
export function shellCommands(markdown: string): ReadmeCommand[] {
  const commands: ReadmeCommand[] = [];
  let inSh = false;
  for (const [index, text] of markdown.split('\n').entries()) {
    const fence = /^\s*```(\S*)/.exec(text);
    if (fence) {
      inSh = !inSh && fence[1] === 'sh';
      continue;
    }
    if (!inSh) continue;
    const command = withoutComment(text).trim();
    if (command !== '') commands.push({ command, line: index + 1 });
  }
  return commands;
}

function withoutComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
      return line.slice(0, i);
    }
  }
  return line;
}
