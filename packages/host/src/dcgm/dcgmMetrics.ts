import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { DcgmExporterError } from './errors.ts';

/**
 * The dcgm-exporter fields the samplers read. Profiling fields (PROF_*) are the only per-MIG-slice
 * activity there is: GPU_UTIL is absent on a MIG instance.
 */
export const DCGM_FIELDS = {
  grEngineActive: 'DCGM_FI_PROF_GR_ENGINE_ACTIVE',
  smActive: 'DCGM_FI_PROF_SM_ACTIVE',
  dramActive: 'DCGM_FI_PROF_DRAM_ACTIVE',
  gpuUtilization: 'DCGM_FI_DEV_GPU_UTIL',
  /** mJ since the driver loaded: a per-GPU counter that MIG slices share. */
  energyMillijoules: 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION',
  /** The last XID error's number (0: none since the exporter started). */
  xid: 'DCGM_FI_DEV_XID_ERRORS',
  framebufferUsedMiB: 'DCGM_FI_DEV_FB_USED',
} as const;
export type DcgmField = keyof typeof DCGM_FIELDS;

/** One GPU or MIG instance as dcgm-exporter labels it, with the fields it had a sample for. */
export interface DcgmEntity {
  /** The `gpu` label: nvidia-smi's index. */
  gpuIndex: number;
  /** The parent GPU's UUID, also on a MIG instance's samples. */
  uuid: string | null;
  /** `GPU_I_ID`: the GPU instance of a MIG slice; null for a whole GPU. */
  gpuInstanceId: number | null;
  /** `GPU_I_PROFILE` ("1g.6gb"). */
  profile: string | null;
  /** Only the fields the exporter served for this entity: a field absent here is unknown, never 0. */
  values: Partial<Record<DcgmField, number>>;
}

const FIELD_BY_METRIC = new Map<string, DcgmField>(
  Object.entries(DCGM_FIELDS).map(([field, metric]) => [metric, field as DcgmField]),
);

/**
 * Reads dcgm-exporter's /metrics (Prometheus text format) into one entry per GPU and MIG instance.
 * Values of metrics other than DCGM_FIELDS are not kept; a sample without a `gpu` label or with a value that is
 * not a number is garbled output, named with its metric.
 */
export function parseDcgmMetrics(text: string, source = 'dcgm-exporter'): DcgmEntity[] {
  let families: ReturnType<typeof parsePrometheusTextFormat>;
  try {
    // The parser drops a last line that has no newline after it (the format requires one; a proxy or
    // a cut-short answer may not keep it).
    families = parsePrometheusTextFormat(text.endsWith('\n') ? text : `${text}\n`);
  } catch (error) {
    throw new DcgmExporterError(source, 'garbled', `not the Prometheus text format: ${String(error)}`, {
      cause: error,
    });
  }
  const entities = new Map<string, DcgmEntity>();
  for (const family of families) {
    // Every DCGM sample names a GPU or MIG instance, read or not: one with no sample of a field is
    // known to exist, and that field is unknown for it.
    if (!family.name.startsWith('DCGM_FI_')) continue;
    const field = FIELD_BY_METRIC.get(family.name);
    for (const sample of family.metrics) {
      const labels = sample.labels ?? {};
      const gpuIndex = wholeNumber(labels['gpu']);
      const value = Number(sample.value);
      if (gpuIndex === null || sample.value === undefined || Number.isNaN(value)) {
        throw new DcgmExporterError(
          source,
          'garbled',
          `${family.name}: expected a sample with a gpu label and a number, found ${JSON.stringify(sample)}`,
        );
      }
      const gpuInstanceId = wholeNumber(labels['GPU_I_ID']);
      const key = `${gpuIndex}/${gpuInstanceId ?? ''}`;
      let entity = entities.get(key);
      if (!entity) {
        entity = {
          gpuIndex,
          uuid: labels['UUID'] || null,
          gpuInstanceId,
          profile: labels['GPU_I_PROFILE'] || null,
          values: {},
        };
        entities.set(key, entity);
      }
      if (field) entity.values[field] = value;
    }
  }
  return [...entities.values()].sort(
    (a, b) => a.gpuIndex - b.gpuIndex || (a.gpuInstanceId ?? -1) - (b.gpuInstanceId ?? -1),
  );
}

function wholeNumber(text: string | undefined): number | null {
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : null;
}
