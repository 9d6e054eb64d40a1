import { Ds01Error } from '@ds01/errors';
/** A lifecycle command that cannot be carried out, said so that a person knows what to do. */
export class LifecycleError extends Ds01Error {
  override name = 'LifecycleError';
  readonly containerId: string;
  constructor(containerId: string, message: string, hint: string) {
    super(message, { hint });
    this.containerId = containerId;
  }
}
