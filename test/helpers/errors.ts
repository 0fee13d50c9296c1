import { formatError } from '../../src/core/errors.js';

/** The text a user sees for the error `fn` throws (sync or async). */
export async function errorText(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (err) {
    return formatError(err);
  }
  throw new Error('expected an error');
}
