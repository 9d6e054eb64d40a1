import { Label } from '@ds01/domain';
import type { EventStore } from '@ds01/event-store';

/**
 * Who owns which container, as far as the gateway can rest on it: the user whose socket a container
 * was created through (ContainerCreateAuthorized, the kernel-checked owner of issue 16), kept in
 * memory from the log. A container the gateway did not create falls back to its `ds01.user` label:
 * once users have no raw socket, only root and the gateway can write labels (the gateway refuses
 * ds01.* labels from callers), so a label is an admin's or ds01-infra's attribution, not the
 * caller's claim.
 */
export class ContainerOwners {
  readonly #owners = new Map<string, string | null>();
  /** Owners read from labels, by full id: a container's labels never change, so neither does this. */
  readonly #labelled = new Map<string, string | null>();
  static readonly MAX_LABELLED = 100_000;

  /** Reads every ContainerCreateAuthorized in the log (once, at start). */
  async load(store: EventStore): Promise<void> {
    for await (const event of store.readAll({ filter: { eventTypes: ['ContainerCreateAuthorized'] } })) {
      const data = event.data as { containerId: string; user: string | null };
      this.#owners.set(data.containerId, data.user);
    }
  }

  record(containerId: string, user: string | null): void {
    this.#owners.set(containerId, user);
  }

  /** The owner of a container dockerd described (its full id and labels); null: nobody known. */
  ownerOf(containerId: string, labels: Readonly<Record<string, string>> | null | undefined): string | null {
    const recorded = this.#owners.get(containerId);
    if (recorded !== undefined) return recorded;
    const label = labels?.[Label.user];
    const owner = label ? label : null;
    if (this.#labelled.size >= ContainerOwners.MAX_LABELLED) this.#labelled.clear();
    this.#labelled.set(containerId, owner);
    return owner;
  }

  /** The owner of a full container id already resolved once (undefined: ask dockerd). */
  known(containerId: string): string | null | undefined {
    return this.#owners.get(containerId) ?? this.#labelled.get(containerId);
  }
}

/** Exec ids → the container they run in, remembered at exec create (else asked of dockerd). */
export class ExecContainers {
  readonly #containers = new Map<string, string>();
  static readonly MAX = 100_000;

  record(execId: string, containerId: string): void {
    // Exec ids live as long as their container; a bounded map forgets the oldest (dockerd is asked again).
    if (this.#containers.size >= ExecContainers.MAX) {
      const oldest = this.#containers.keys().next().value;
      if (oldest !== undefined) this.#containers.delete(oldest);
    }
    this.#containers.set(execId, containerId);
  }

  containerOf(execId: string): string | undefined {
    return this.#containers.get(execId);
  }
}
