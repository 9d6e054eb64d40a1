/** What a service says about its own health, as numbers (1/0 for yes/no, counts, seconds). */
export type HealthReading = Readonly<Record<string, number>>;

export interface HealthSample {
  service: string;
  name: string;
  value: number;
}

/**
 * Where services tell how they are (the docker watcher: connected; the GPU sampler: probes failing
 * in a row), read by whoever reports it (the exporter) without importing the service: ds01d makes
 * one board and hands it to every service. Readings are pulled, so a service keeps no copy current.
 */
export class HealthBoard {
  readonly #sources = new Map<string, () => HealthReading>();

  /** Registers a service's reading; the returned function removes it (the service stopped). */
  register(service: string, read: () => HealthReading): () => void {
    this.#sources.set(service, read);
    return () => {
      if (this.#sources.get(service) === read) this.#sources.delete(service);
    };
  }

  /** Every reading now; a source that throws is left out (its service is broken, not the reader). */
  read(): HealthSample[] {
    const samples: HealthSample[] = [];
    for (const [service, read] of this.#sources) {
      try {
        for (const [name, value] of Object.entries(read())) samples.push({ service, name, value });
      } catch {
        // A reading that fails is no reading.
      }
    }
    return samples;
  }

  /** The services registered now. */
  services(): string[] {
    return [...this.#sources.keys()];
  }
}
