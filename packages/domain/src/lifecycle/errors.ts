/** A lifecycle command that cannot be carried out, said so that a person knows what to do. */
export class LifecycleError extends Error {
  override name = 'LifecycleError';
  readonly containerId: string;
  readonly hint: string;
  constructor(containerId: string, message: string, hint: string) {
    super(message);
    this.containerId = containerId;
    this.hint = hint;
  }
}
