import { OpsmateError, type OpsmateErrorOptions } from '../../errors/opsmate-error.js';

/**
 * The model could not be used: no API key, the key was refused, the server is unreachable, rate
 * limits outlasted the retries, or the server does not know the model.
 */
export class ModelError extends OpsmateError {
  constructor(message: string, options: OpsmateErrorOptions = {}) {
    super(message, options);
    this.name = 'ModelError';
  }

  static override isInstance(value: unknown): value is ModelError {
    return OpsmateError.isInstance(value) && (value as { name?: unknown }).name === 'ModelError';
  }
}
