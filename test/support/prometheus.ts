import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from './waitUntil.ts';

/** A free TCP port on 127.0.0.1 (for programs that cannot be told to take port 0 and say which). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface PrometheusServer {
  url: string;
  dir: string;
  /** Instant query: the result vector ([] when the expression returns nothing). */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** Waits until every target is up (scraped at least once). */
  targetsUp(count: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Debian's real Prometheus on a free port and a temporary data dir, with this configuration (and
 * rule files, written next to it and named by `rule_files` in the config).
 */
export async function startPrometheus(
  config: string,
  files: Record<string, string> = {},
): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ds01-prometheus-'));
  writeFileSync(join(dir, 'prometheus.yml'), config);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
        return (await fetch(`${url}/-/ready`).catch(() => null))?.ok === true;
      },
      'prometheus to be ready',
      30_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const server: PrometheusServer = {
    url,
    dir,
    async query(expr) {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await response.json()) as {
        status: string;
        error?: string;
        data: { resultType: string; result: unknown };
      };
      if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
      if (body.data.resultType === 'scalar') {
        return [{ metric: {}, value: body.data.result as [number, string] }];
      }
      return body.data.result as { metric: Record<string, string>; value: [number, string] }[];
    },
    async targetsUp(count, timeoutMs = 30_000) {
      await waitUntil(
        async () => {
          const up = await server.query('up == 1');
          return up.length >= count;
        },
        `${count} scrape targets up`,
        timeoutMs,
      );
    },
    stop,
  };
  return server;
}

/** An HTTP server on a free port answering GET /metrics with this text (a captured exporter page). */
export async function replayMetrics(text: string): Promise<{ target: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    target: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
