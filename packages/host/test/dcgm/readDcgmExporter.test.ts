import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DcgmExporterError, parseDcgmMetrics, readDcgmExporter } from '../../src/dcgm/index.ts';
import { fixture, rejectionOf } from '../nvidia/captures.ts';

const CAPTURE = fixture('dcgm/a30-rtx2000ada-mixed-mig-dcgm-metrics-1.txt');

/** A local dcgm-exporter stand-in: a real HTTP server on a random port. */
async function serve(handler: RequestListener): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/metrics` };
}

describe('dcgm-exporter /metrics', () => {
  let server: Server | null = null;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = null;
  });

  it('reads the real capture into one entity per GPU and MIG instance, served over HTTP', async () => {
    const served = await serve((_request, response) => {
      response.setHeader('content-type', 'text/plain; version=0.0.4');
      response.end(CAPTURE);
    });
    server = served.server;
    const entities = await readDcgmExporter(served.url, { timeoutMs: 5000 });
    expect(entities).toEqual([
      {
        gpuIndex: 1,
        uuid: 'GPU-fc60126e-514d-3522-2828-c5daa8e99d85',
        gpuInstanceId: null,
        profile: null,
        values: {},
      },
      {
        gpuIndex: 2,
        uuid: 'GPU-63bc0b91-2265-1b94-831c-15c41fe92675',
        gpuInstanceId: 3,
        profile: '1g.6gb',
        values: {},
      },
    ]);
  });

  it('has no value for a series the exporter does not serve: unknown, never zero', () => {
    // The capture has DEC/ENC utilisation and FB free, but no GR_ENGINE_ACTIVE, GPU_UTIL or FB_USED.
    const entities = parseDcgmMetrics(CAPTURE);
    for (const entity of entities) {
      expect(entity.values.grEngineActive).toBeUndefined();
      expect(entity.values.gpuUtilization).toBeUndefined();
    }
  });

  it('reads MIG labels and profiling fields; a whole GPU has no GPU_I_ID', () => {
    // The capture's own label sets (MIG instance on the A30, whole RTX 2000), with the fields DS01 reads.
    const labels = CAPTURE.split('\n')
      .filter((line) => line.startsWith('DCGM_FI_DEV_FB_FREE{'))
      .map((line) => line.slice('DCGM_FI_DEV_FB_FREE'.length, line.lastIndexOf('}') + 1));
    // Grouped by metric family, as exporters write them.
    const text = [
      ...labels.map((set, i) => `DCGM_FI_PROF_GR_ENGINE_ACTIVE${set} 0.${i + 2}5`),
      ...labels.map((set, i) => `DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION${set} ${1000 + i}`),
    ].join('\n');
    expect(parseDcgmMetrics(text)).toEqual([
      {
        gpuIndex: 1,
        uuid: 'GPU-fc60126e-514d-3522-2828-c5daa8e99d85',
        gpuInstanceId: null,
        profile: null,
        values: { grEngineActive: 0.25, energyMillijoules: 1000 },
      },
      {
        gpuIndex: 2,
        uuid: 'GPU-63bc0b91-2265-1b94-831c-15c41fe92675',
        gpuInstanceId: 3,
        profile: '1g.6gb',
        values: { grEngineActive: 0.35, energyMillijoules: 1001 },
      },
    ]);
  });

  it('fails with a timeout when the exporter does not answer in time', async () => {
    const served = await serve(() => {
      // never answers
    });
    server = served.server;
    const error = await rejectionOf<DcgmExporterError>(readDcgmExporter(served.url, { timeoutMs: 200 }));
    expect(error).toBeInstanceOf(DcgmExporterError);
    expect(error.kind).toBe('timeout');
    expect(error.message).toMatch(/did not answer within 200 ms/);
  });

  it('fails naming the HTTP status, and when nothing listens', async () => {
    const served = await serve((_request, response) => {
      response.statusCode = 503;
      response.end('busy');
    });
    server = served.server;
    expect(
      (await rejectionOf<DcgmExporterError>(readDcgmExporter(served.url, { timeoutMs: 5000 }))).kind,
    ).toBe('http-status');
    server.closeAllConnections();
    await new Promise((resolve) => served.server.close(resolve));
    server = null;
    const unreachable = await rejectionOf<DcgmExporterError>(
      readDcgmExporter(served.url, { timeoutMs: 5000 }),
    );
    expect(unreachable.kind).toBe('unreachable');
    expect(unreachable.message).toMatch(/ECONNREFUSED/);
  });

  it('names the metric of a sample without a gpu label', () => {
    expect(() => parseDcgmMetrics('DCGM_FI_PROF_SM_ACTIVE{UUID="GPU-1"} 0.5\n')).toThrow(
      /DCGM_FI_PROF_SM_ACTIVE: expected a sample with a gpu label/,
    );
  });
});
