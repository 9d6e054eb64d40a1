import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The newest installed PostgreSQL server's bin folder (Debian keeps them off PATH). */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((name) => existsSync(join(root, name, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(a) - Number(b));
  const newest = majors.at(-1);
  return newest === undefined ? undefined : join(root, newest, 'bin');
}

/**
 * A PostgreSQL cluster of a test's own, for tests that stop, kill or restart the server (the shared test
 * cluster must stay up for the suites running beside it). initdb into /var/lib/ds01-test/private-pg-<name>,
 * listening only on a unix socket in its own folder (so its port number collides with nothing), trust auth.
 * Run as the postgres user when the tests run as root (the server refuses root).
 */
export class PrivatePostgres {
  readonly name: string;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly port = 5432;
  readonly url: string;
  readonly #bin: string;

  constructor(name: string) {
    const bin = postgresBin();
    if (!bin) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
    this.#bin = bin;
    this.name = name;
    this.dataDir = `/var/lib/ds01-test/private-pg-${name}`;
    this.socketDir = `/run/ds01-test/private-pg-${name}`;
    this.url = `postgres://postgres@localhost/postgres?host=${this.socketDir}&port=${this.port}`;
  }

  /** A fresh cluster, started. */
  async create(): Promise<void> {
    await this.stop('immediate').catch(() => {});
    rmSync(this.dataDir, { recursive: true, force: true });
    for (const dir of [this.dataDir, this.socketDir]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      if (userInfo().uid === 0) chownSync(dir, ...postgresIds());
    }
    await this.#asPostgres('initdb', [
      '-D',
      this.dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--no-locale',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    await this.start();
  }

  async start(): Promise<void> {
    await this.#asPostgres('pg_ctl', [
      'start',
      '-w',
      '-t',
      '60',
      '-D',
      this.dataDir,
      '-l',
      join(this.dataDir, 'server.log'),
      '-o',
      `-p ${this.port} -k ${this.socketDir} -c listen_addresses=''`,
    ]);
  }

  /** fast: disconnect everyone and shut down cleanly; immediate: no checkpoint, recovery at the next start (a crash). */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.#asPostgres('pg_ctl', ['stop', '-w', '-t', '60', '-m', mode, '-D', this.dataDir]);
  }

  /** Stops and removes the cluster. */
  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => {});
    rmSync(this.dataDir, { recursive: true, force: true });
    rmSync(this.socketDir, { recursive: true, force: true });
  }

  async #asPostgres(tool: string, args: string[]): Promise<void> {
    const path = join(this.#bin, tool);
    const [command, commandArgs] =
      userInfo().uid === 0 ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
    await run(command, commandArgs, { timeout: 90_000 });
  }
}

/** The postgres user's uid and gid (Debian's postgresql package makes the user). */
function postgresIds(): [number, number] {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  if (!line) throw new Error('no postgres user on this machine: install postgresql');
  const [, , uid, gid] = line.split(':');
  return [Number(uid), Number(gid)];
}
