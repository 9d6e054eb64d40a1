/**
 * Container labels. The `ds01.*` namespace is the one truth; containers made before ds01-infra's
 * "Phase 7" migration (2026-02-16) carry the AIME MLC namespace `aime.mlc.*` instead, and each of those is
 * read as the ds01 label it became (ds01-infra config/label-schema.yaml, its `notes: Replaces ...` lines).
 */

export const Label = {
  user: 'ds01.user',
  managed: 'ds01.managed',
  interface: 'ds01.interface',
  containerType: 'ds01.container_type',
  protected: 'ds01.protected',
  monitoring: 'ds01.monitoring',
} as const;

/** Labels other tools write that attribution and classification read. */
export const ToolLabel = {
  devcontainerLocalFolder: 'devcontainer.local_folder',
  devcontainerMetadata: 'devcontainer.metadata',
  composeProject: 'com.docker.compose.project',
  composeService: 'com.docker.compose.service',
  composeWorkingDir: 'com.docker.compose.project.working_dir',
  jupyterHubUser: 'hub.jupyter.org/username',
} as const;

/**
 * Legacy label → the ds01 label it became. Owner labels come first, in the order ds01-infra falls back
 * through them (ds01_core.py get_container_owner_from_labels, admin dashboard extract_owner): `USER`, then
 * the bare `aime.mlc` (original AIME MLC writes `aime.mlc=<user>`), then the rare `aime.mlc.username`.
 */
export const LEGACY_LABELS: ReadonlyArray<readonly [legacy: string, ds01: string]> = [
  ['aime.mlc.USER', 'ds01.user'],
  ['aime.mlc', 'ds01.user'],
  ['aime.mlc.username', 'ds01.user'],
  ['aime.mlc.DS01_MANAGED', 'ds01.managed'],
  ['aime.mlc.DS01_TYPE', 'ds01.container_type'],
  ['aime.mlc.NAME', 'ds01.name'],
  ['aime.mlc.ARCH', 'ds01.arch'],
  ['aime.mlc.MLC_VERSION', 'ds01.mlc_version'],
  ['aime.mlc.CUSTOM_IMAGE', 'ds01.custom_image'],
  ['aime.mlc.FRAMEWORK', 'ds01.framework'],
  ['aime.mlc.DS01_FRAMEWORK', 'ds01.framework'],
  ['aime.mlc.GPUS', 'ds01.gpus'],
  ['aime.mlc.WORK_MOUNT', 'ds01.work_mount'],
  ['aime.mlc.DATA_MOUNT', 'ds01.data_mount'],
  ['aime.mlc.MODELS_MOUNT', 'ds01.models_mount'],
  ['aime.mlc.DS01_CREATED', 'ds01.created_at'],
  ['aime.mlc.DS01_HAS_USER_SETUP', 'ds01.has_user_setup'],
  ['aime.mlc.DS01_USER_ID', 'ds01.user_id'],
  ['aime.mlc.DS01_GROUP_ID', 'ds01.group_id'],
  ['aime.mlc.DS01_USERNAME', 'ds01.username'],
  ['aime.mlc.DS01_CONTAINER', 'ds01.container_name'],
  ['aime.mlc.DS01_IMAGE', 'ds01.image'],
  ['aime.mlc.DS01_WORKSPACE', 'ds01.workspace'],
  ['aime.mlc.DS01_PROJECT', 'ds01.project'],
];

export interface Ds01Labels {
  /** Every `ds01.*` label the container has, directly or through its legacy name. */
  readonly values: Readonly<Record<string, string>>;
  /** The ds01 labels whose value came from a legacy `aime.mlc.*` label (and which one). */
  readonly fromLegacy: Readonly<Record<string, string>>;
}

/**
 * The container's labels read in the ds01 namespace. A ds01 label present (and non-empty) wins over its
 * legacy name; among legacy names the first of LEGACY_LABELS wins. Empty values count as absent, as
 * ds01-infra's `if owner:` checks do.
 */
export function readDs01Labels(labels: Readonly<Record<string, string>>): Ds01Labels {
  const values: Record<string, string> = {};
  const fromLegacy: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    if (key.startsWith('ds01.') && value !== '') values[key] = value;
  }
  for (const [legacy, ds01] of LEGACY_LABELS) {
    const value = labels[legacy];
    if (value === undefined || value === '' || ds01 in values) continue;
    values[ds01] = value;
    fromLegacy[ds01] = legacy;
  }
  return { values, fromLegacy };
}

/** ds01-infra writes booleans as the string "true"; anything else is false. */
export function labelIsTrue(labels: Ds01Labels, key: string): boolean {
  return labels.values[key] === 'true';
}
