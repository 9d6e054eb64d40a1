import { type EventCodec, EventSchemaError } from '@ds01/event-store';
import type { z } from 'zod';
import type { EventDefinition } from './defineEvent.ts';

/**
 * A set of event definitions, used by the store as its codec: it refuses, at append, an event
 * whose type is unknown or whose data fails the schema (naming the field), and upcasts older
 * versions on read.
 */
export class EventCatalog implements EventCodec {
  readonly #definitions = new Map<string, EventDefinition>();

  constructor(definitions: readonly EventDefinition[]) {
    for (const definition of definitions) {
      if (this.#definitions.has(definition.type))
        throw new Error(`event type ${definition.type} is defined twice`);
      this.#definitions.set(definition.type, definition);
    }
  }

  get types(): string[] {
    return [...this.#definitions.keys()].sort();
  }

  definition(type: string): EventDefinition | undefined {
    return this.#definitions.get(type);
  }

  encode(type: string, data: unknown): { version: number; data: unknown } {
    const definition = this.#require(type);
    return { version: definition.version, data: parse(definition, data) };
  }

  decode(type: string, version: number, data: unknown): { version: number; data: unknown } {
    const definition = this.#require(type);
    if (version > definition.version) {
      throw new EventSchemaError(
        type,
        '',
        `was written as version ${version} by a newer DS01; this one reads up to version ${definition.version}`,
      );
    }
    let upcast = data;
    for (let v = version; v < definition.version; v++) {
      upcast = (definition.upcasters[v] as (d: unknown) => unknown)(upcast);
    }
    return { version: definition.version, data: parse(definition, upcast) };
  }

  decodeStored(type: string, version: number, data: unknown): { version: number; data: unknown } {
    const definition = this.#require(type);
    if (version === definition.version) return { version, data };
    return this.decode(type, version, data);
  }

  #require(type: string): EventDefinition {
    const definition = this.#definitions.get(type);
    if (!definition) {
      throw new EventSchemaError(type, '', `is not a known event type (known: ${this.types.join(', ')})`);
    }
    return definition;
  }
}

function parse(definition: EventDefinition, data: unknown): unknown {
  const result = (definition.schema as z.ZodType).safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new EventSchemaError(definition.type, issue.path.join('.'), issue.message);
}
