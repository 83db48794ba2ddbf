/**
 * The one error class netlite throws, with a stable `code`.
 * @packageDocumentation
 */
import { types } from 'util';

/**
 * Stable error codes. All but `ERR_DISPOSED` map 1:1 to `netlite_status` in `netlite.h`.
 *
 * - `ERR_INVALID_ARGUMENT`: a bad argument or option, or a missing feed.
 * - `ERR_INVALID_MODEL`: the bytes are not a well-formed ONNX model.
 * - `ERR_UNSUPPORTED`: a valid model using an op, opset, type or feature netlite lacks.
 * - `ERR_SHAPE`: a shape that does not fit the model or an op.
 * - `ERR_DTYPE`: an element type that does not fit the model or an op.
 * - `ERR_OUT_OF_MEMORY`: an allocation failed or the memory limit was exceeded.
 * - `ERR_IO`: a model file could not be read.
 * - `ERR_NOT_FOUND`: no input or output with that name.
 * - `ERR_RUNTIME`: the run could not complete.
 * - `ERR_INTERNAL`: a netlite bug; please report it.
 * - `ERR_DISPOSED`: the predictor has been disposed.
 */
export type NetliteErrorCode =
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_INVALID_MODEL'
  | 'ERR_UNSUPPORTED'
  | 'ERR_SHAPE'
  | 'ERR_DTYPE'
  | 'ERR_OUT_OF_MEMORY'
  | 'ERR_IO'
  | 'ERR_NOT_FOUND'
  | 'ERR_RUNTIME'
  | 'ERR_INTERNAL'
  | 'ERR_DISPOSED';

/** Every {@link NetliteErrorCode}, in `netlite_status` order, then `ERR_DISPOSED`. */
export const errorCodes: readonly NetliteErrorCode[] = Object.freeze([
  'ERR_INVALID_ARGUMENT',
  'ERR_INVALID_MODEL',
  'ERR_UNSUPPORTED',
  'ERR_SHAPE',
  'ERR_DTYPE',
  'ERR_OUT_OF_MEMORY',
  'ERR_IO',
  'ERR_NOT_FOUND',
  'ERR_RUNTIME',
  'ERR_INTERNAL',
  'ERR_DISPOSED',
] as const);

/**
 * An error from netlite: a failed load or prediction, or an argument rejected before it
 * reached the engine. Check {@link NetliteError.code}, not the message, which may change.
 *
 * @example
 * ```ts
 * try {
 *   await predictor.predict({ input });
 * } catch (e) {
 *   if (e instanceof NetliteError && e.code === 'ERR_SHAPE') console.error(e.message);
 * }
 * ```
 */
export class NetliteError extends Error {
  /** Stable, machine-readable cause. */
  readonly code: NetliteErrorCode;

  /**
   * @param code - one of {@link NetliteErrorCode}
   * @param message - human-readable text naming the input, node or byte offset at fault
   */
  constructor(code: NetliteErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

// On the prototype (not an own property) like the built-in errors' names.
Object.defineProperty(NetliteError.prototype, 'name', {
  value: 'NetliteError',
  writable: true,
  configurable: true,
  enumerable: false,
});

function isCode(value: unknown): value is NetliteErrorCode {
  return typeof value === 'string' && (errorCodes as readonly string[]).includes(value);
}

/** The "\n    at ..." lines of an error's stack (after its message, which may span lines). */
function framesOf(error: Error): string {
  const stack = error.stack ?? '';
  const at = stack.indexOf('\n    at ');
  return at < 0 ? '' : stack.slice(at);
}

/**
 * Turns an error thrown by the addon into a {@link NetliteError}. When `stack` (an Error
 * made before an async hop) is given, its frames replace the native ones, so the trace
 * shows the caller's code rather than the event loop; without it, a new error's trace starts
 * at the caller of this function.
 * @internal
 */
export function toNetliteError(error: unknown, stack?: Error): NetliteError {
  let result: NetliteError;
  if (error instanceof NetliteError) {
    result = error;
  } else if (types.isNativeError(error) || (typeof error === 'object' && error !== null && 'message' in error)) {
    // Not `instanceof Error`: the addon's errors come from the main realm, which differs
    // from the caller's inside vm contexts (jest, REPL sandboxes).
    const { code, message } = error as { code?: unknown; message?: unknown };
    result = new NetliteError(isCode(code) ? code : 'ERR_INTERNAL', String(message));
  } else {
    result = new NetliteError('ERR_INTERNAL', String(error));
  }
  if (result === error && !stack) return result;
  if (!stack) {
    // Made here: the trace starts at the caller of this function (V8 adds the async frames).
    Error.captureStackTrace(result, toNetliteError);
  }
  const frames = framesOf(stack ?? result);
  result.stack = `${result.name} [${result.code}]: ${result.message}${frames}`;
  return result;
}

/**
 * Throws a {@link NetliteError}.
 * @internal
 */
export function fail(code: NetliteErrorCode, message: string): never {
  throw new NetliteError(code, message);
}
