export {
  accountNameProblems,
  impossibleName,
  type NamedAccount,
  namedAccounts,
  unknownAccountProblems,
} from './accountNames.ts';
export {
  type ConfigFiles,
  configFilesFrom,
  limitsFile,
  locateLimitsDir,
  readConfigFiles,
} from './configFiles.ts';
export { createPolicyLimits, dockerSizeBytes } from './createPolicyLimits.ts';
export { dockerRunArgs } from './dockerRunArgs.ts';
export {
  allocationLimits,
  type EffectiveLimits,
  effectiveLimits,
  type LimitName,
  type UserPolicies,
} from './effectiveLimits.ts';
export { activeExemption, type ExemptEnforcement, type ExemptionCheck } from './exemptions.ts';
export {
  formatGpuEquivalents,
  GetResourceLimitsJson,
  toGetResourceLimitsJson,
} from './getResourceLimitsJson.ts';
export { type ContainerFacts, highDemandThreshold, lifecyclePolicy } from './lifecyclePolicy.ts';
export { inspectResourceLimits, loadResourceLimits, resolveResourceLimits } from './loadResourceLimits.ts';
export type { GroupDefinition, LimitsLayer, ResourceLimits, SettingSource, UserOverride } from './model.ts';
export { policySnapshot } from './policySnapshot.ts';
export { describeProblem, type LimitsProblem, type Location } from './problems.ts';
export { sanitizeUsernameForSlice, userSliceName } from './sanitizeUsername.ts';
export {
  Aggregate,
  Exemption,
  ExemptionsFile,
  LifecyclePolicies,
  ResourceLimitsFile,
  UserOverridesFile,
} from './schema.ts';
