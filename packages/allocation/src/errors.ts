import { Ds01Error } from '@ds01/errors';
/** Base of the allocator's errors: the request could not be turned into a decision. */
export class AllocatorError extends Ds01Error {
  override name = 'AllocatorError';
}

/** A field of an allocation or release request that is not valid (nothing was decided). */
export class InvalidGpuRequestError extends AllocatorError {
  override name = 'InvalidGpuRequestError';
  readonly field: string;
  readonly value: unknown;
  constructor(field: string, value: unknown, problem: string, hint?: string) {
    super(`${field} ${JSON.stringify(value)}: ${problem}`, hint === undefined ? {} : { hint });
    this.field = field;
    this.value = value;
  }
}

/** The pool's devices could not be read: no decision is taken against a guessed inventory. */
export class InventoryUnavailableError extends AllocatorError {
  override name = 'InventoryUnavailableError';
}
