/** The EmulatorError a call throws, for tests of refusals; any other outcome fails the test. */
import { EmulatorError } from '../errors';

export function refusal(call: () => unknown): EmulatorError {
  try {
    call();
  } catch (error) {
    if (error instanceof EmulatorError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}
