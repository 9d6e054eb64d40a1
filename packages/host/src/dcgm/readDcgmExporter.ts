import { type DcgmEntity, parseDcgmMetrics } from './dcgmMetrics.ts';
import { DcgmExporterError } from './errors.ts';

/**
 * GETs dcgm-exporter's /metrics and parses it, within `timeoutMs` for the whole exchange (a stuck
 * exporter never holds a sampling cycle). Throws DcgmExporterError saying which way it failed.
 */
export async function readDcgmExporter(url: string, options: { timeoutMs: number }): Promise<DcgmEntity[]> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  let text: string;
  try {
    const response = await fetch(url, { signal, headers: { accept: 'text/plain' } });
    if (!response.ok) {
      await response.body?.cancel();
      throw new DcgmExporterError(
        url,
        'http-status',
        `answered HTTP ${response.status} ${response.statusText}`,
      );
    }
    text = await response.text();
  } catch (error) {
    if (error instanceof DcgmExporterError) throw error;
    if (signal.aborted) {
      throw new DcgmExporterError(url, 'timeout', `did not answer within ${options.timeoutMs} ms`, {
        cause: error,
      });
    }
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new DcgmExporterError(
      url,
      'unreachable',
      `cannot be reached (${cause?.code ?? cause?.message ?? String(error)})`,
      {
        cause: error,
      },
    );
  }
  return parseDcgmMetrics(text, url);
}
