import { Ds01Error } from '@ds01/errors';
/** Why dcgm-exporter could not be read. */
export type DcgmExporterFailure = 'timeout' | 'unreachable' | 'http-status' | 'garbled';

/** dcgm-exporter did not answer in time, answered an error, or served what cannot be read. */
export class DcgmExporterError extends Ds01Error {
  override name = 'DcgmExporterError';
  readonly url: string;
  readonly kind: DcgmExporterFailure;
  constructor(url: string, kind: DcgmExporterFailure, problem: string, options?: { cause?: unknown }) {
    super(
      `dcgm-exporter (${url}): ${problem}. Per-slice GPU activity is unknown until it answers; ` +
        'check that dcgm-exporter runs and that gpus.dcgm_exporter_url in ds01.yaml points at its /metrics',
      options,
    );
    this.url = url;
    this.kind = kind;
  }
}
