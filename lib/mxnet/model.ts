/**
 * MXNet model sources for {@link Predictor.load}: a symbol JSON and its `.params` file.
 * @packageDocumentation
 */
import { fail } from '../errors';

/** A file path, or the file's bytes. */
export type MxnetFile = string | Uint8Array | ArrayBuffer;

/**
 * An MXNet model: `prefix-symbol.json` and `prefix-EPOCH.params`, as written by
 * `Module.save_checkpoint` or Gluon `HybridBlock.export` (any MXNet version: legacy
 * `param`-era and NNVM symbol files, NDArray files from 2015 to 1.9).
 *
 * @example
 * ```ts
 * const pnet = await Predictor.load({ symbol: 'det1-symbol.json', params: 'det1-0001.params' });
 * const rnet = await Predictor.load({ symbol: 'det2-symbol.json', params: 'det2-0001.params',
 *                                     inputShapes: { data: [-1, 3, 24, 24] } });
 * ```
 */
export interface MxnetModelSource {
  /** Path of the symbol JSON file, its bytes, or the JSON text itself (a string starting with `{`). */
  readonly symbol: MxnetFile;
  /** Path of the `.params` file (an NDArray list with `arg:`/`aux:` keys), or its bytes. */
  readonly params: MxnetFile;
  /**
   * Input shapes by name (`-1` leaves a dim free), like the shapes given to MXNet's
   * `MXPredCreate`: the listed names are the inputs and every other symbol argument
   * must be in `params`. Without it, every data argument missing from `params` is an
   * input (usually `data`) whose rank and dims are taken from each feed: the predictor
   * reports its shape as `[]` and needs a {@link Tensor} with dims.
   */
  readonly inputShapes?: Readonly<Record<string, readonly number[]>>;
}

/** What the addon takes: paths or bytes, and validated shapes. */
export interface NormalizedMxnetSource {
  symbol: string | Uint8Array;
  params: string | Uint8Array;
  inputShapes: Record<string, number[]> | undefined;
}

const keys: readonly string[] = ['symbol', 'params', 'inputShapes'];

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array || Object.prototype.toString.call(v) === '[object Uint8Array]';
}

function isArrayBuffer(v: unknown): v is ArrayBuffer {
  return v instanceof ArrayBuffer || Object.prototype.toString.call(v) === '[object ArrayBuffer]';
}

/** True when `model` is an {@link MxnetModelSource} (an object with `symbol`), not ONNX bytes. */
export function isMxnetSource(model: unknown): model is MxnetModelSource {
  return (
    model !== null && typeof model === 'object' && !isBytes(model) && !isArrayBuffer(model) &&
    !ArrayBuffer.isView(model) && 'symbol' in (model as object)
  );
}

function normalizeFile(v: unknown, what: 'symbol' | 'params'): string | Uint8Array {
  if (typeof v === 'string') {
    if (v.length === 0) fail('ERR_INVALID_ARGUMENT', `Expected ${what} to be a path or bytes but received an empty string`);
    // JSON text rather than a path: no file name starts with '{'.
    if (what === 'symbol' && v.trimStart().startsWith('{')) return Buffer.from(v, 'utf8');
    return v;
  }
  if (isBytes(v)) return v;
  if (isArrayBuffer(v)) return new Uint8Array(v);
  return fail('ERR_INVALID_ARGUMENT', `Expected ${what} to be a file path, a Uint8Array or an ArrayBuffer`);
}

/** Validates an {@link MxnetModelSource} (friendly errors here; the addon checks again). */
export function normalizeMxnetSource(model: MxnetModelSource): NormalizedMxnetSource {
  for (const key of Object.keys(model)) {
    if (!keys.includes(key)) fail('ERR_INVALID_ARGUMENT', `Unknown MXNet model field '${key}'; expected one of ${keys.join(', ')}`);
  }
  if (model.params === undefined) fail('ERR_INVALID_ARGUMENT', 'An MXNet model needs both symbol and params');
  const out: NormalizedMxnetSource = {
    symbol: normalizeFile(model.symbol, 'symbol'),
    params: normalizeFile(model.params, 'params'),
    inputShapes: undefined,
  };
  const shapes = model.inputShapes;
  if (shapes !== undefined) {
    if (shapes === null || typeof shapes !== 'object' || Array.isArray(shapes)) {
      fail('ERR_INVALID_ARGUMENT', 'Expected inputShapes to be an object mapping input names to dims');
    }
    out.inputShapes = {};
    for (const name of Object.keys(shapes)) {
      const dims = shapes[name];
      if (!Array.isArray(dims) || dims.length > 32 || !dims.every((d) => Number.isSafeInteger(d) && d >= -1)) {
        fail('ERR_INVALID_ARGUMENT', `Expected inputShapes['${name}'] to be an array of non-negative integers or -1 (a free dim)`);
      }
      out.inputShapes[name] = dims.slice();
    }
    if (Object.keys(out.inputShapes).length === 0) fail('ERR_INVALID_ARGUMENT', 'inputShapes names no input');
  }
  return out;
}
