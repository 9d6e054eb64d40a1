import {
  effectiveLimits,
  type ResourceLimits,
  readConfigFiles,
  resolveResourceLimits,
  type TelemetryConfig,
} from '@ds01/config';
import type { BareMetalRules } from '@ds01/domain';
import { readBareMetalGrants } from '@ds01/host';
import type { SamplerLogger } from '../gpuSampler.ts';

/** ds01-infra's default `bare_metal_access.state_dir`. */
export const DEFAULT_GRANTS_DIR = '/var/lib/ds01/bare-metal-grants';

/**
 * The bare-metal rules of this host, read again each cycle: telemetry.host_processes of ds01.yaml,
 * and the lab's resource limits (bare_metal_access.exempt_users, the grants in its state_dir, and
 * which DS01 group a user is in), resolved again when one of their files changed. Limits that
 * cannot be read leave the ds01.yaml rules alone in force (said once, then when they work again).
 */
export class BareMetalRulesSource {
  readonly #configDir: string;
  readonly #config: TelemetryConfig['host_processes'];
  readonly #logger: SamplerLogger;
  #loaded: { digest: string; limits: ResourceLimits } | null = null;
  #failing = false;

  constructor(configDir: string, config: TelemetryConfig['host_processes'], logger: SamplerLogger) {
    this.#configDir = configDir;
    this.#config = config;
    this.#logger = logger;
  }

  async rules(): Promise<BareMetalRules> {
    const limits = this.#limits();
    const access = limits?.file.bare_metal_access ?? null;
    const { grants, problems } = await readBareMetalGrants(access?.state_dir ?? DEFAULT_GRANTS_DIR);
    for (const problem of problems) this.#logger.warn({ problem }, `bare-metal grant skipped: ${problem}`);
    return {
      defaultPolicy: this.#config.policy,
      users: this.#config.users,
      groups: this.#config.groups,
      exemptUsers: access?.exempt_users ?? [],
      grants,
    };
  }

  /** The user's DS01 group (resource-limits membership), or none when the limits cannot be read. */
  groupsOf(user: string): string[] {
    return this.#loaded ? [effectiveLimits(this.#loaded.limits, user).memberOf] : [];
  }

  #limits(): ResourceLimits | null {
    try {
      const files = readConfigFiles(this.#configDir);
      const digest = [...files.sha256].map(([name, sha]) => `${name}=${sha}`).join(' ');
      if (this.#loaded?.digest !== digest) this.#loaded = { digest, limits: resolveResourceLimits(files) };
      if (this.#failing) this.#logger.info({}, 'resource limits readable again: bare-metal exemptions apply');
      this.#failing = false;
      return this.#loaded.limits;
    } catch (error) {
      if (!this.#failing) {
        this.#logger.warn(
          { configDir: this.#configDir },
          `bare-metal exemptions and groups unknown (resource limits unreadable: ${String(error)}); ` +
            'telemetry.host_processes of ds01.yaml applies alone',
        );
      }
      this.#failing = true;
      return this.#loaded?.limits ?? null;
    }
  }
}
