/**
 * Tensors: a typed array plus an element type and dims.
 * @packageDocumentation
 */
import { types } from 'util';

import { fail } from './errors';

/** Element types netlite computes with. `bool` is one byte per element (0 or 1). */
export type TensorType = 'float32' | 'int64' | 'int32' | 'uint8' | 'int8' | 'bool';

/** The typed array that holds each {@link TensorType}. */
export interface TensorData {
  float32: Float32Array;
  int64: BigInt64Array;
  int32: Int32Array;
  uint8: Uint8Array;
  int8: Int8Array;
  bool: Uint8Array;
}

/** Any typed array a tensor can hold. */
export type TypedArray = TensorData[TensorType];

/** Every {@link TensorType}. */
export const tensorTypes: readonly TensorType[] = Object.freeze([
  'float32',
  'int64',
  'int32',
  'uint8',
  'int8',
  'bool',
] as const);

const arrayClassOf: Readonly<Record<TensorType, string>> = {
  float32: 'Float32Array',
  int64: 'BigInt64Array',
  int32: 'Int32Array',
  uint8: 'Uint8Array',
  int8: 'Int8Array',
  bool: 'Uint8Array',
};

/**
 * True if `value` is one of the typed arrays a tensor can hold. Works across realms
 * (worker threads, `vm` contexts), unlike `instanceof`.
 * @internal
 */
export function isTensorArray(value: unknown): value is TypedArray {
  return (
    types.isFloat32Array(value) ||
    types.isBigInt64Array(value) ||
    types.isInt32Array(value) ||
    types.isUint8Array(value) ||
    types.isInt8Array(value)
  );
}

/**
 * The element type a typed array implies; a `Uint8Array` is `uint8` unless `preferBool`.
 * @internal
 */
export function inferType(data: TypedArray, preferBool = false): TensorType {
  if (types.isFloat32Array(data)) return 'float32';
  if (types.isBigInt64Array(data)) return 'int64';
  if (types.isInt32Array(data)) return 'int32';
  if (types.isInt8Array(data)) return 'int8';
  return preferBool ? 'bool' : 'uint8';
}

/** @internal */
export function isTensorType(value: unknown): value is TensorType {
  return typeof value === 'string' && (tensorTypes as readonly string[]).includes(value);
}

function fitsType(type: TensorType, data: unknown): boolean {
  switch (type) {
    case 'float32':
      return types.isFloat32Array(data);
    case 'int64':
      return types.isBigInt64Array(data);
    case 'int32':
      return types.isInt32Array(data);
    case 'int8':
      return types.isInt8Array(data);
    case 'uint8':
    case 'bool':
      return types.isUint8Array(data);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (ArrayBuffer.isView(value)) return `a ${Object.prototype.toString.call(value).slice(8, -1)}`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Formats dims for messages: `[1,3,224,224]`, with `N` for a symbolic (-1) dim.
 * @internal
 */
export function formatDims(dims: readonly number[]): string {
  return `[${dims.map((d) => (d < 0 ? 'N' : String(d))).join(',')}]`;
}

/**
 * A tensor: an element type, dims (row-major, C order) and the typed array holding the
 * elements. The data is not copied: a prediction borrows it until it settles, so do not
 * modify it while a `predict()` that uses it is in flight.
 *
 * @typeParam T - the element type; fixes the class of {@link Tensor.data}
 *
 * @example
 * ```ts
 * const image = new Tensor('float32', new Float32Array(3 * 224 * 224), [1, 3, 224, 224]);
 * const ids = new Tensor('int64', BigInt64Array.from([1n, 2n, 3n]));   // dims [3]
 * ```
 */
export class Tensor<T extends TensorType = TensorType> {
  /** Element type. */
  readonly type: T;
  /** Dims, outermost first; frozen. */
  readonly dims: readonly number[];
  /** The elements, in row-major order. `data.length` equals the product of `dims`. */
  readonly data: TensorData[T];

  /**
   * @param type - element type
   * @param data - elements; its class must match `type` (`float32` → Float32Array, `int64` →
   *   BigInt64Array, `int32` → Int32Array, `uint8`/`bool` → Uint8Array, `int8` → Int8Array)
   * @param dims - dims; default `[data.length]`
   * @throws {@link NetliteError} `ERR_INVALID_ARGUMENT` for an unknown type or bad dims,
   *   `ERR_DTYPE` when the array class does not match `type`, `ERR_SHAPE` when
   *   `data.length` differs from the product of `dims`
   */
  constructor(type: T, data: TensorData[T], dims?: readonly number[]) {
    if (!isTensorType(type)) {
      fail('ERR_INVALID_ARGUMENT', `Unknown tensor type ${JSON.stringify(type)}; expected one of ${tensorTypes.join(', ')}`);
    }
    if (!fitsType(type, data)) {
      fail('ERR_DTYPE', `A ${type} tensor needs a ${arrayClassOf[type]} but received ${describe(data)}`);
    }
    const shape = dims === undefined ? [data.length] : dims;
    if (!Array.isArray(shape)) fail('ERR_INVALID_ARGUMENT', `Expected dims to be an array but received ${describe(shape)}`);
    let count = 1;
    for (const d of shape) {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
        fail('ERR_INVALID_ARGUMENT', `Expected dims to hold non-negative integers but received ${JSON.stringify(shape)}`);
      }
      count *= d;
    }
    if (count !== data.length) {
      fail('ERR_SHAPE', `Tensor dims ${formatDims(shape)} need ${count} elements but the data has ${data.length}`);
    }
    this.type = type;
    this.data = data;
    this.dims = Object.freeze(shape.slice());
  }

  /**
   * Narrows the tensor to one element type (and so {@link Tensor.data} to its array class).
   *
   * @example
   * ```ts
   * if (out.logits.is('float32')) console.log(out.logits.data.indexOf(Math.max(...out.logits.data)));
   * ```
   */
  is<U extends TensorType>(type: U): this is Tensor<U> {
    return (this.type as TensorType) === type;
  }

  /** Number of elements (the product of {@link Tensor.dims}). */
  get size(): number {
    return this.data.length;
  }
}
