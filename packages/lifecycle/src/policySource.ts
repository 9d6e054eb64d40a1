import {
  type ContainerFacts,
  highDemandThreshold,
  type LifecycleConfig,
  lifecyclePolicy,
  type ResourceLimits,
  readConfigFiles,
  resolveResourceLimits,
} from '@ds01/config';
import type { LifecyclePolicy, LifecycleState } from '@ds01/domain';

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

/**
 * What a container's rules are chosen by: its type, whether DS01 made it, and its owner, whose group
 * gives the idle timeout and thresholds. The owner is the lifecycle state's: the verified one (the
 * gateway's ContainerCreateAuthorized, whichever order it landed in) when there is one, so a label or
 * path claiming a user of a more lenient group does not buy a container that group's idle timeout.
 */
export function policyFactsOf(state: LifecycleState): ContainerFacts {
  return { user: state.user, type: state.type, managed: state.managed };
}
