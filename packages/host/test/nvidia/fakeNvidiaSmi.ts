import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from './captures.ts';

/**
 * A stand-in nvidia-smi: a real executable shell script, run as a real child process, whose body
 * decides what it does (print a capture, sleep, fail, print junk). `$FIXTURES` in the body is the
 * captures folder.
 */
export class FakeNvidiaSmi {
  readonly dir = mkdtempSync(join(tmpdir(), 'ds01-fake-nvidia-smi-'));
  readonly binary = join(this.dir, 'nvidia-smi');

  /** Replaces what the fake does; `body` is sh, run with nvidia-smi's arguments in "$@". */
  script(body: string): this {
    writeFileSync(this.binary, `#!/bin/sh\nFIXTURES='${FIXTURES}'\n${body}\n`);
    chmodSync(this.binary, 0o755);
    return this;
  }

  /** Prints these captures for -L and -q -x (paths relative to the fixtures folder). */
  serves(captures: { list: string; xml: string }): this {
    return this.script(`case "$*" in
  "-L") cat "$FIXTURES/${captures.list}" ;;
  "-q -x") cat "$FIXTURES/${captures.xml}" ;;
  *) echo "fake nvidia-smi: unexpected arguments: $*" >&2; exit 2 ;;
esac`);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
