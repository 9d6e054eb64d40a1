/**
 * A seeded random source (mulberry32): the harness prints its seed so that a failing run's choices
 * (when to kill, what to ask for) can be made again with `--seed`. Timing on a busy machine still
 * differs between runs, so a replay repeats the plan, not every interleaving.
 */
export class SeededRandom {
  readonly seed: number;
  #state: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    this.#state = this.seed;
  }

  /** A fresh seed for a run that was not given one. */
  static newSeed(): number {
    return Math.floor(Math.random() * 2 ** 32) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** `length` lower-case hex digits (a made-up container id, for example). */
  hex(length: number): string {
    let out = '';
    while (out.length < length) out += this.between(0, 15).toString(16);
    return out;
  }

  /** An independent source for one actor (a user's loop), so actors do not shift each other's choices. */
  fork(): SeededRandom {
    return new SeededRandom(Math.floor(this.next() * 2 ** 32));
  }
}
