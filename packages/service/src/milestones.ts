/**
 * Moments one service of ds01d reaches that another waits for (services never import each other, so
 * they meet here). Today one: the docker watcher has reconciled Docker with the log, after which what
 * happened to containers while ds01d was down is on the log — what the GPU hold manager must know
 * before it expires a hold (a container started again within its hold keeps its GPUs).
 */
export type MilestoneName = 'docker-reconciled';

export class Milestones {
  readonly #moments = new Map<MilestoneName, { reached: Promise<void>; reach: () => void }>();

  /** Says the moment has come (again: a no-op). */
  reached(name: MilestoneName): void {
    this.#moment(name).reach();
  }

  /** Resolves once the moment has come, at once when it already has. */
  when(name: MilestoneName): Promise<void> {
    return this.#moment(name).reached;
  }

  #moment(name: MilestoneName) {
    let moment = this.#moments.get(name);
    if (!moment) {
      let reach!: () => void;
      const reached = new Promise<void>((resolve) => {
        reach = resolve;
      });
      moment = { reached, reach };
      this.#moments.set(name, moment);
    }
    return moment;
  }
}
