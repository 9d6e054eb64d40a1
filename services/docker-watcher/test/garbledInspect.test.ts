import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  cleanupTestRun,
  describeWithDocker,
  socketPathOf,
  TEST_RUN_LABEL,
  uniqueName,
} from '../../../test/support/docker.ts';
import { hasAll, WatcherHarness } from './harness.ts';

/** Containers carrying this label get a garbled inspect answer from the proxy. */
const GARBLE = 'ds01.test.garble-inspect';

/**
 * A proxy in front of the real test dockerd that passes every call through, except the inspect of a
 * container labelled GARBLE, which it answers with JSON no Docker would send.
 */
function garblingProxy(dockerSocket: string, socketPath: string): Promise<Server> {
  const garbled = new Set<string>();
  const server = createServer((req, res) => {
    const inspect = /^\/(?:v[\d.]+\/)?containers\/([0-9a-f]{64})\/json/.exec(req.url ?? '');
    if (inspect && garbled.has(inspect[1]!)) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ Id: 42, State: 'on fire' }));
      return;
    }
    const upstream = request(
      { socketPath: dockerSocket, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        // As dockerd does: the headers go out at once, before the first event (the watcher waits on them).
        res.flushHeaders();
        if (!req.url?.includes('/events')) {
          answer.pipe(res);
          return;
        }
        // Learn which containers to garble from their create events as they stream by.
        answer.on('data', (chunk: Buffer) => {
          for (const line of chunk.toString('utf8').split('\n')) {
            if (line.includes(`"${GARBLE}"`) && line.includes('"create"')) {
              const id = /"id"\s*:\s*"([0-9a-f]{64})"/.exec(line)?.[1];
              if (id) garbled.add(id);
            }
          }
          res.write(chunk);
        });
        answer.on('end', () => res.end());
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(socketPath, () => resolve(server)));
}

describeWithDocker('docker watcher: an inspect answer it cannot read', (td) => {
  const dir = mkdtempSync(join(tmpdir(), 'ds01-garble-'));
  const proxySocket = join(dir, 'docker.sock');
  let proxy: Server;
  let h: WatcherHarness;
  const label = `${TEST_RUN_LABEL}=${td.runId}`;

  beforeAll(async () => {
    proxy = await garblingProxy(socketPathOf(td.host), proxySocket);
    h = new WatcherHarness(`unix://${proxySocket}`);
    await h.startWatcher();
  });
  afterAll(async () => {
    await h?.close();
    proxy?.closeAllConnections();
    await new Promise((resolve) => proxy?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
    await cleanupTestRun(td);
  });

  it('is logged naming the field, the container described from its event, and the watcher goes on', async () => {
    const odd = await h.docker(
      'create',
      '--name',
      uniqueName(td, 'garbled'),
      '--label',
      label,
      '--label',
      `${GARBLE}=1`,
      '--label',
      'ds01.user=alice',
      td.image,
    );
    const types = await h.waitFor(odd, hasAll('ContainerDescribed'), 'its description');
    expect(types).toEqual(['ContainerCreated', 'ContainerDescribed', 'UnmanagedContainerDetected']);
    const described = (await h.events(odd)).find((e) => e.type === 'ContainerDescribed')!.data;
    expect(described).toMatchObject({
      describedFrom: 'event-attributes',
      owner: { user: 'alice', rule: 'ds01_label' },
      gpu: { access: 'unknown' },
    });
    expect(h.logs).toContainEqual({
      level: 'warn',
      msg: 'cannot read the inspect answer of a new container; describing it from its Docker event',
    });

    // The next container is described from inspect as usual: one odd answer stopped nothing.
    const fine = await h.docker('create', '--name', uniqueName(td, 'fine'), '--label', label, td.image);
    await h.waitFor(fine, hasAll('ContainerDescribed'), 'its description');
    const fineDescribed = (await h.events(fine)).find((e) => e.type === 'ContainerDescribed')!.data;
    expect(fineDescribed).toMatchObject({ describedFrom: 'inspect' });
    expect(h.watcher!.status()).toMatchObject({ connected: true, reconnects: 0 });
  });
});
