import { lstatSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import { GatewaySockets } from '../src/sockets/gatewaySockets.ts';

/** What a client polling the socket's path sees, at every turn of the event loop while the socket opens. */
function watch(path: string): { seen: Set<string>; stop: () => void } {
  const seen = new Set<string>();
  let running = true;
  const sample = () => {
    try {
      const socket = lstatSync(path);
      const folder = lstatSync(join(path, '..'));
      seen.add(
        `socket ${socket.uid}:${socket.gid} ${(socket.mode & 0o777).toString(8)}, folder ${folder.uid}`,
      );
    } catch {
      // not there yet
    }
  };
  const look = () => {
    if (!running) return;
    sample();
    setImmediate(look);
  };
  look();
  // One more look once it is open: what every later client sees.
  const stop = () => {
    running = false;
    sample();
  };
  return { seen, stop };
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

it("a user's socket is theirs, 0600, in their folder, from the moment it exists (CI saw it root's once)", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ds01-gateway-sockets-'));
  dirs.push(dir);
  const sockets = new GatewaySockets({
    usersDir: join(dir, 'users'),
    adminSocket: join(dir, 'admin', 'docker.sock'),
    serverFor: () => {
      const server = http.createServer((_request, response) => response.end('ok'));
      return { server, destroyConnections: () => server.closeAllConnections() };
    },
    logger: pino({ level: 'silent' }),
  });
  const admin = watch(join(dir, 'admin', 'docker.sock'));
  await sockets.start();
  admin.stop();
  const user = watch(join(dir, 'users', 'alice', 'docker.sock'));
  await sockets.sync([{ name: 'alice', uid: 54321, gid: 54322, group: 'student' }]);
  user.stop();
  await sockets.stop();
  expect([...admin.seen]).toEqual(['socket 0:0 600, folder 0']);
  expect([...user.seen]).toEqual(['socket 54321:54322 600, folder 54321']);
});
