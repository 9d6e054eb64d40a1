import { z } from 'zod';
import { type ContainerInspect, containerName } from './inspect.ts';
import { type Ds01Labels, Label, labelIsTrue, readDs01Labels, ToolLabel } from './labels.ts';

/**
 * What made a container, in ds01-infra's words (config/label-schema.yaml `ds01.interface`), plus
 * `other` — ds01-infra's gpu-state-reader word for compose projects, JupyterHub and other tools that
 * the label schema has no value for.
 */
export const ContainerInterface = z.enum([
  'orchestration',
  'atomic',
  'api',
  'docker',
  'vscode',
  'other',
  'unknown',
]);
export type ContainerInterface = z.infer<typeof ContainerInterface>;

/**
 * The container's type, as ds01-infra's `ds01.container_type` holds it: the schema's devcontainer,
 * compose, docker and unknown, plus the values its own creators write there — the docker wrapper writes
 * the interface (`atomic`, `orchestration`, `api`) for its native containers, and mlc-create-from-image
 * writes `custom`.
 */
export const ContainerType = z.enum([
  'devcontainer',
  'compose',
  'docker',
  'atomic',
  'orchestration',
  'api',
  'custom',
  'unknown',
]);
export type ContainerType = z.infer<typeof ContainerType>;

/** The monitoring stack and anything an admin protected: seen, never treated as a user workload. */
const INFRASTRUCTURE_NAME_PREFIXES = [
  'ds01-prometheus',
  'ds01-grafana',
  'ds01-alertmanager',
  'ds01-dcgm-exporter',
  'ds01-node-exporter',
  'ds01-cadvisor',
] as const;

const NATIVE_INTERFACES = new Set<string>(['orchestration', 'atomic', 'api']);

const isDevcontainer = (labels: Readonly<Record<string, string>>, name: string) =>
  name.startsWith('vscode-') || ToolLabel.devcontainerMetadata in labels || 'devcontainer' in labels;

const isCompose = (labels: Readonly<Record<string, string>>, name: string) =>
  Boolean(labels[ToolLabel.composeProject] || labels[ToolLabel.composeService]) ||
  (name.includes('_') && /_[123]$/.test(name));

const isJupyter = (labels: Readonly<Record<string, string>>, name: string) =>
  name.startsWith('jupyterhub-') || name.startsWith('jupyter-') || Boolean(labels[ToolLabel.jupyterHubUser]);

/**
 * ds01-infra's gpu-state-reader `_detect_interface` order: an explicit `ds01.interface`, then managed or
 * a `._.` name (atomic), then tools (dev containers: `vscode` — the label schema's word; compose and
 * JupyterHub: `other`), else `docker`. An explicit value outside the vocabulary falls through, as there.
 */
export function detectInterface(inspect: ContainerInspect, ds01 = readDs01Labels(inspect.Config.Labels)) {
  const labels = inspect.Config.Labels;
  const name = containerName(inspect);
  const explicit = ContainerInterface.safeParse(ds01.values[Label.interface]);
  if (explicit.success) return explicit.data;
  if (labelIsTrue(ds01, Label.managed) || name.includes('._.')) return 'atomic';
  if (isDevcontainer(labels, name)) return 'vscode';
  if (isCompose(labels, name) || isJupyter(labels, name)) return 'other';
  return 'docker';
}

/**
 * ds01-infra's order for the type (its maintenance scripts, and the docker wrapper at create): the
 * `ds01.container_type` label, then a native interface label, then a `._.` name or managed (atomic),
 * then any `devcontainer.*` label, any `com.docker.compose*` label, else `docker`.
 */
export function detectContainerType(
  inspect: ContainerInspect,
  ds01 = readDs01Labels(inspect.Config.Labels),
): ContainerType {
  const labels = inspect.Config.Labels;
  const explicit = ContainerType.safeParse(ds01.values[Label.containerType]);
  if (explicit.success) return explicit.data;
  const iface = ds01.values[Label.interface];
  if (iface && NATIVE_INTERFACES.has(iface)) return iface as ContainerType;
  if (containerName(inspect).includes('._.') || labelIsTrue(ds01, Label.managed)) return 'atomic';
  const keys = Object.keys(labels);
  if (keys.some((k) => k === 'devcontainer' || k.startsWith('devcontainer.'))) return 'devcontainer';
  if (keys.some((k) => k.startsWith('com.docker.compose'))) return 'compose';
  return 'docker';
}

/** Came through DS01 (or ds01-infra): `ds01.managed=true`, or its legacy `aime.mlc.DS01_MANAGED=true`. */
export function isManaged(ds01: Ds01Labels): boolean {
  return labelIsTrue(ds01, Label.managed);
}

/** `ds01.protected=true`, `ds01.monitoring=true`, or a monitoring-stack name (ds01-infra's patterns). */
export function isInfrastructure(inspect: ContainerInspect, ds01: Ds01Labels): boolean {
  if (labelIsTrue(ds01, Label.protected) || labelIsTrue(ds01, Label.monitoring)) return true;
  const name = containerName(inspect);
  return INFRASTRUCTURE_NAME_PREFIXES.some((prefix) => name.startsWith(prefix));
}
