import { chmod, chown, lchown, lstat, mkdir, rename, rm, rmdir, unlink } from 'node:fs/promises';
import type http from 'node:http';
import { dirname, join } from 'node:path';
import { Ds01Error } from '@ds01/errors';
import type { Logger } from 'pino';
import type { Caller } from '../access/caller.ts';

/** A user who gets a socket: their account (uid/gid own the socket) and group (for the create policy). */
export interface GatewaySocketUser {
  name: string;
  uid: number;
  gid: number;
  group: string;
}

export class UnsafeSocketDirError extends Ds01Error {
  override readonly name = 'UnsafeSocketDirError';
}

/** A socket's HTTP server, and a way to end every connection it has, hijacked ones included. */
export interface GatewayServer {
  server: http.Server;
  destroyConnections(): void;
}

interface OpenSocket {
  user: GatewaySocketUser;
  path: string;
  server: GatewayServer;
}

/**
 * The sockets of the gateway on disk: `<usersDir>/<name>/docker.sock` for each user (the socket
 * 0600 and its folder 0700, both owned by the user) and the root-only admin socket.
 *
 * A user owns their folder, so every step that follows a path in it happens while the folder is
 * root's: it is taken back (lchown, never following a link), emptied of a stale socket, the socket
 * is bound beside its place, chmod-ed and chown-ed; then the folder is given to the user and the
 * socket renamed into place (a rename follows no link). A link planted in the folder can thus never
 * make root chown or remove something else.
 */
export class GatewaySockets {
  readonly usersDir: string;
  readonly adminSocket: string;
  readonly #serverFor: (caller: Caller) => GatewayServer;
  readonly #logger: Logger;
  readonly #open = new Map<string, OpenSocket>();
  #admin: OpenSocket | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: {
    usersDir: string;
    adminSocket: string;
    serverFor: (caller: Caller) => GatewayServer;
    logger: Logger;
  }) {
    this.usersDir = options.usersDir;
    this.adminSocket = options.adminSocket;
    this.#serverFor = options.serverFor;
    this.#logger = options.logger;
  }

  /** The users dir (root's, 0755: users can reach their own folder, nobody can swap one) and the admin socket. */
  async start(): Promise<void> {
    await ensureRootDir(this.usersDir, 0o755);
    await ensureRootDir(dirname(this.adminSocket), 0o700);
    const server = this.#serverFor({ kind: 'admin', uid: 0, socketPath: this.adminSocket });
    await rename(await bindOwned(server.server, this.adminSocket, { uid: 0, gid: 0 }), this.adminSocket);
    this.#admin = { user: { name: 'root', uid: 0, gid: 0, group: 'admin' }, path: this.adminSocket, server };
  }

  /** Opens a socket for each user not yet served and closes those of users no longer listed. */
  sync(users: readonly GatewaySocketUser[]): Promise<void> {
    const turn = this.#queue.then(() => this.#sync(users));
    this.#queue = turn.catch(() => {});
    return turn;
  }

  /** The users with an open socket, and its path. */
  served(): Map<string, string> {
    return new Map([...this.#open].map(([name, socket]) => [name, socket.path]));
  }

  async stop(): Promise<void> {
    await this.#queue;
    const all = [...this.#open.values(), ...(this.#admin ? [this.#admin] : [])];
    this.#open.clear();
    this.#admin = undefined;
    // Streaming clients (logs -f, attach) see their connection end rather than hang.
    await Promise.all(all.map((socket) => close(socket)));
  }

  async #sync(users: readonly GatewaySocketUser[]): Promise<void> {
    const wanted = new Map(users.map((u) => [u.name, u]));
    for (const [name, socket] of this.#open) {
      const user = wanted.get(name);
      if (
        user &&
        user.uid === socket.user.uid &&
        user.gid === socket.user.gid &&
        user.group === socket.user.group
      ) {
        continue;
      }
      this.#open.delete(name);
      await close(socket);
      await rm(dirname(socket.path), { recursive: true, force: true });
      this.#logger.info({ user: name, socket: socket.path }, 'gateway: socket closed');
    }
    for (const user of wanted.values()) {
      if (this.#open.has(user.name)) continue;
      try {
        this.#open.set(user.name, await this.#openFor(user));
      } catch (error) {
        this.#logger.error({ err: error, user: user.name }, 'gateway: could not open the socket of a user');
      }
    }
  }

  async #openFor(user: GatewaySocketUser): Promise<OpenSocket> {
    if (user.name.includes('/') || user.name === '.' || user.name === '..' || user.name.includes('\0')) {
      throw new UnsafeSocketDirError(`user name ${JSON.stringify(user.name)} cannot name a folder`);
    }
    const dir = join(this.usersDir, user.name);
    const path = join(dir, 'docker.sock');
    await takeBack(dir);
    const server = this.#serverFor({
      kind: 'user',
      user: user.name,
      uid: user.uid,
      gid: user.gid,
      group: user.group,
      socketPath: path,
    });
    const bound = await bindOwned(server.server, path, user);
    await chown(dir, user.uid, user.gid);
    // Last, so that a socket that exists is ready and in a folder that is the user's already. A rename
    // follows no link: whatever the user has put in the folder by now, only their own entries move.
    await rename(bound, path);
    this.#logger.info({ user: user.name, socket: path }, 'gateway: socket open');
    return { user, path, server };
  }
}

/** `dir` exists, is a real folder (not a link), root's, with this mode; made if missing. */
async function ensureRootDir(dir: string, mode: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode });
  const stat = await lstat(dir);
  if (!stat.isDirectory()) throw new UnsafeSocketDirError(`${dir} is not a folder (a link?): remove it`);
  await lchown(dir, 0, 0);
  await chmod(dir, mode);
}

/** A user's folder, made or taken back as root's 0700 before anything in it is touched. */
async function takeBack(dir: string): Promise<void> {
  try {
    const stat = await lstat(dir);
    if (!stat.isDirectory()) await unlink(dir); // a link or file where the folder should be
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await lchown(dir, 0, 0);
  await chmod(dir, 0o700);
}

/** A socket left by a ds01d that was killed (or anything else at the path) is removed, never followed. */
async function removeStale(path: string): Promise<void> {
  try {
    const stat = await lstat(path);
    if (stat.isDirectory()) await rmdir(path);
    else await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * Binds the server to a name beside `path`, 0600 and owned by `owner`, and returns that name: the
 * caller renames it to `path` (a bound socket keeps working under its new name), so a client, or a
 * test, that sees the socket can use it and never sees it root's or before it accepts connections.
 */
async function bindOwned(
  server: http.Server,
  path: string,
  owner: { uid: number; gid: number },
): Promise<string> {
  const bound = `${path}.binding`;
  await removeStale(bound);
  await removeStale(path);
  await listen(server, bound);
  await chmod(bound, 0o600);
  await chown(bound, owner.uid, owner.gid);
  return bound;
}

function listen(server: http.Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function close(socket: OpenSocket): Promise<void> {
  await new Promise<void>((resolve) => {
    socket.server.server.close(() => resolve());
    socket.server.destroyConnections();
  });
  await rm(socket.path, { force: true });
}
