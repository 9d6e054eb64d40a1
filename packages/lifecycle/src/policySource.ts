import {
  type ContainerFacts,
  highDemandThreshold,
  type LifecycleConfig,
  lifecyclePolicy,
  type ResourceLimits,
  readConfigFiles,
  resolveResourceLimits,
} from '@ds01/config';
import type { LifecyclePolicy } from '@ds01/domain';

export interface LifecyclePolicySource {
  policyFor(container: ContainerFacts, now: Date): LifecyclePolicy;
  highDemandThreshold(): number;
}

/**
 * The lifecycle rules from the resource-limits.yaml of a config dir (and the files beside it),
 * resolved again whenever one of them changed. Files that do not validate fail the decision with
 * their ConfigError (file:line): nothing is retired on rules that cannot be read.
 */
export function policyFromConfigDir(configDir: string, lifecycle: LifecycleConfig): LifecyclePolicySource {
  let loaded: { digest: string; limits: ResourceLimits } | undefined;
  const limits = (): ResourceLimits => {
    const files = readConfigFiles(configDir);
    const digest = [...files.sha256].map(([name, sha]) => `${name}=${sha}`).join(' ');
    if (loaded?.digest !== digest) loaded = { digest, limits: resolveResourceLimits(files) };
    return loaded.limits;
  };
  return {
    policyFor: (container, now) => lifecyclePolicy(limits(), lifecycle, container, now),
    highDemandThreshold: () => highDemandThreshold(limits()),
  };
}
