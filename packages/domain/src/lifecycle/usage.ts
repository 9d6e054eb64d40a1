import type { EventOf } from '../events/defineEvent.ts';
import type { GpuUsageWindowRecorded } from '../telemetry/events.ts';

type GpuWindow = EventOf<typeof GpuUsageWindowRecorded>['data'];

/**
 * A GPU window's activity in percent, the measure idle detection compares with gpu_idle_threshold:
 * on a MIG slice DCGM's GR_ENGINE_ACTIVE (nvidia-smi has no utilisation there); on a full GPU its
 * utilisation, else GR_ENGINE_ACTIVE. null when neither is known: unknown is never idle.
 */
export function gpuActivityPercent(window: GpuWindow): number | null {
  const engine = window.grEngineActive ? window.grEngineActive.mean * 100 : null;
  const mig = window.device.migProfile !== null || window.device.slot.includes('.');
  if (mig) return engine;
  return window.gpuUtilization ? window.gpuUtilization.mean : engine;
}
