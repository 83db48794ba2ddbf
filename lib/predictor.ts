/**
 * Predictor: a loaded model that maps named input tensors to named output tensors.
 * @packageDocumentation
 */
import { NetliteError, fail, toNetliteError } from './errors';
import { MxnetModelSource, isMxnetSource, normalizeMxnetSource } from './mxnet/model';
import { NativeFeed, NativeLoadOptions, NativeModel, NativeOutput, NativeTensorInfo, binding } from './native';
import { Tensor, TensorData, TensorType, TypedArray, formatDims, inferType, isTensorArray, isTensorType } from './tensor';

/** Describes one model input or output. */
export interface TensorInfo {
  /** Name in the model graph. */
  readonly name: string;
  /** Element type. */
  readonly type: TensorType;
  /** Dims as declared by the model; -1 for a dim the model leaves free (e.g. batch `N`). */
  readonly shape: readonly number[];
}

/** Memory a predictor holds, in bytes. */
export interface MemoryInfo {
  /**
   * Constant tensors (weights) after load-time transforms, with the copies kernels keep transformed or
   * packed (Winograd weights, int8 panels); shared by all runs.
   */
  readonly weightsBytes: number;
  /** Activation arena of one run at the model's declared shapes (0 if not known); one per concurrent run. */
  readonly arenaBytes: number;
  /**
   * GEMM packing workspaces reserved at load, one per thread (a few MB of address space each, resident only as far
   * as GEMMs use it; 0 when the model multiplies no float matrices or OpenBLAS does it). Shared by every model in
   * the process: do not sum it over models.
   */
  readonly workspaceBytes: number;
}

/** Options of {@link Predictor.load}. */
export interface PredictorOptions {
  /** Intra-op threads per run; 0 or absent means one per core. */
  threads?: number;
  /**
   * Matrix-multiply backend: `auto` (default: netlite's SIMD kernels when the CPU has AVX2/FMA,
   * AVX-512 or NEON, else OpenBLAS when compiled in, else netlite's portable kernel),
   * `reference` (slow scalar oracle, for tests), `netlite` (netlite's SIMD kernels) or
   * `openblas` (falls back to `netlite` when not compiled in).
   */
  gemm?: 'auto' | 'reference' | 'netlite' | 'openblas';
  /** Run the graph optimisation passes at load (default true). */
  optimize?: boolean;
  /** Bytes the weights plus one run's arena may take; 0 or absent means no limit. */
  memoryLimit?: number;
  /**
   * Run the model once on zero inputs while loading (default false). Off, the load returns as
   * soon as the model is ready, and the first prediction costs about 1.05-1.3x what later ones
   * cost, now and then up to 1.9x at two threads (`npm run bench` on a 2-core AMD EPYC VM: the
   * first call through the JS and N-API path, and the GEMM packing buffers becoming resident);
   * on, that first-call cost moves into the load (first / median 1.00-1.05) together with one
   * whole run's time. `load` runs it through
   * `predict`, on the predictor's run thread; `loadSync` once natively on the run thread and
   * once through `predictSync`. It runs at the declared input shapes, free dims as 1; a model
   * that fails on zeros skips it.
   */
  warmUp?: boolean;
}

/**
 * Inputs of one prediction, by name. A bare typed array takes its dims from the model's
 * declared shape (which must then be fully fixed) and its type from its class (a
 * `Uint8Array` feeds a `uint8` or a `bool` input).
 */
export type Feeds = Record<string, Tensor | TypedArray>;

/** Outputs of one prediction, by name, in model order. */
export type Results = Record<string, Tensor>;

/** What the source model may be: a file path, or the bytes of an ONNX file. */
export type ModelSource = string | Uint8Array | ArrayBuffer;

const optionKeys: readonly string[] = ['threads', 'gemm', 'optimize', 'memoryLimit', 'warmUp'];
const gemmChoices: readonly string[] = ['auto', 'reference', 'netlite', 'openblas'];

function normalizeOptions(options: PredictorOptions | undefined): NativeLoadOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    fail('ERR_INVALID_ARGUMENT', `Expected options to be an object but received ${typeof options}`);
  }
  for (const key of Object.keys(options)) {
    if (!optionKeys.includes(key)) {
      fail('ERR_INVALID_ARGUMENT', `Unknown option '${key}'; expected one of ${optionKeys.join(', ')}`);
    }
  }
  const out: NativeLoadOptions = {};
  const { threads, gemm, optimize, memoryLimit, warmUp } = options;
  if (threads !== undefined) {
    if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 0 || threads > 1024) {
      fail('ERR_INVALID_ARGUMENT', `Expected options.threads to be an integer from 0 to 1024 but received ${String(threads)}`);
    }
    out.threads = threads;
  }
  if (gemm !== undefined) {
    if (typeof gemm !== 'string' || !gemmChoices.includes(gemm)) {
      fail('ERR_INVALID_ARGUMENT', `Expected options.gemm to be one of ${gemmChoices.join(', ')} but received ${String(gemm)}`);
    }
    out.gemm = gemm;
    // OpenBLAS is opened at its first use, which sets OPENBLAS_NUM_THREADS for the
    // moment it initialises; buildInfo() does that here, on the JS thread, rather
    // than on the worker that loads the model while this thread may read process.env.
    if (gemm === 'openblas') binding().buildInfo();
  }
  if (optimize !== undefined) {
    if (typeof optimize !== 'boolean') {
      fail('ERR_INVALID_ARGUMENT', `Expected options.optimize to be a boolean but received ${typeof optimize}`);
    }
    out.optimize = optimize;
  }
  if (memoryLimit !== undefined) {
    if (typeof memoryLimit !== 'number' || !Number.isSafeInteger(memoryLimit) || memoryLimit < 0) {
      fail('ERR_INVALID_ARGUMENT', `Expected options.memoryLimit to be a non-negative integer but received ${String(memoryLimit)}`);
    }
    out.memoryLimit = memoryLimit;
  }
  if (warmUp !== undefined) {
    if (typeof warmUp !== 'boolean') {
      fail('ERR_INVALID_ARGUMENT', `Expected options.warmUp to be a boolean but received ${typeof warmUp}`);
    }
    out.warmUp = warmUp;
  }
  return out;
}

function normalizeSource(model: ModelSource): string | Uint8Array {
  if (typeof model === 'string') {
    if (model.length === 0) fail('ERR_INVALID_ARGUMENT', 'Expected a model path but received an empty string');
    return model;
  }
  if (model instanceof Uint8Array || Object.prototype.toString.call(model) === '[object Uint8Array]') {
    return model as Uint8Array;
  }
  if (model instanceof ArrayBuffer || Object.prototype.toString.call(model) === '[object ArrayBuffer]') {
    return new Uint8Array(model as ArrayBuffer);
  }
  return fail('ERR_INVALID_ARGUMENT', 'Expected the model as a file path, a Uint8Array or an ArrayBuffer');
}

/** The most input elements, over all inputs, that `primeJs` makes zero feeds for (64 MiB of float32). */
const kPrimeMaxElements = 16 * 1024 * 1024;

/** A zero-filled typed array of `n` elements for `type`. */
function zeroArray<T extends TensorType>(type: T, n: number): TensorData[T] {
  const arrays: { [K in TensorType]: (n: number) => TensorData[K] } = {
    float32: (k) => new Float32Array(k),
    int64: (k) => new BigInt64Array(k),
    int32: (k) => new Int32Array(k),
    uint8: (k) => new Uint8Array(k),
    int8: (k) => new Int8Array(k),
    bool: (k) => new Uint8Array(k),
  };
  return arrays[type](n);
}

function toInfo(info: NativeTensorInfo): TensorInfo {
  if (!isTensorType(info.type)) {
    fail('ERR_UNSUPPORTED', `Model tensor '${info.name}' has an element type netlite's API cannot carry`);
  }
  return Object.freeze({ name: info.name, type: info.type, shape: Object.freeze(info.shape.slice()) });
}

function toTensor(output: NativeOutput): Tensor {
  if (!isTensorType(output.type)) fail('ERR_INTERNAL', `Output '${output.name}' has an unknown element type`);
  // The addon returns the array class that matches `type`; the constructor re-checks it.
  return new Tensor(output.type, output.data as never, output.dims);
}

function quoteAll(names: readonly string[]): string {
  return names.map((n) => `'${n}'`).join(', ');
}

/**
 * A loaded model. Immutable after load and safe to share: any number of
 * {@link Predictor.predict} calls may be in flight at once, each with its own activation
 * memory. Async calls run off the event loop: a load on the libuv thread pool (4 threads
 * unless `UV_THREADPOOL_SIZE` says otherwise), a prediction on the predictor's own run thread.
 *
 * @example
 * ```ts
 * import { Predictor, Tensor } from 'netlite';
 * const predictor = await Predictor.load('squeezenet1_1.onnx', { threads: 2 });
 * const input = new Tensor('float32', new Float32Array(3 * 224 * 224), [1, 3, 224, 224]);
 * const { output } = await predictor.predict({ input });
 * console.log(output.dims, output.data[0]);
 * predictor.dispose();
 * ```
 */
export class Predictor {
  /** The model's inputs, in model order. */
  readonly inputs: readonly TensorInfo[];
  /** The model's outputs, in model order. */
  readonly outputs: readonly TensorInfo[];
  /** Memory the model holds. */
  readonly memory: MemoryInfo;

  private readonly native: NativeModel;
  private readonly inputIndex: ReadonlyMap<string, TensorInfo>;
  /** Inputs whose rank the model leaves free (MXNet models loaded without inputShapes). */
  private readonly freeRank: ReadonlySet<string>;

  private constructor(native: NativeModel, rankFree = false) {
    this.native = native;
    this.inputs = Object.freeze(native.inputs().map(toInfo));
    this.freeRank = new Set(rankFree ? this.inputs.filter((i) => i.shape.length === 0).map((i) => i.name) : []);
    this.outputs = Object.freeze(native.outputs().map(toInfo));
    const memory = native.memory();
    this.memory = Object.freeze({
      weightsBytes: memory.weightsBytes,
      arenaBytes: memory.arenaBytes,
      workspaceBytes: memory.workspaceBytes,
    });
    this.inputIndex = new Map(this.inputs.map((i) => [i.name, i]));
  }

  /**
   * [async] Loads an ONNX model, or an MXNet model ({@link MxnetModelSource}), on the libuv thread pool.
   *
   * @param model - path of an `.onnx` file, or its bytes (copied or parsed before the promise settles);
   *   or `{ symbol, params, inputShapes? }` for an MXNet model. A file is mapped while it loads (on
   *   Linux): replacing or deleting it is safe, truncating it before the promise settles is not
   * @param options - see {@link PredictorOptions}
   * @returns the predictor
   * @throws {@link NetliteError} (as a rejection) `ERR_IO` for an unreadable file,
   *   `ERR_INVALID_MODEL` for malformed bytes, `ERR_UNSUPPORTED` for ops netlite lacks,
   *   `ERR_INVALID_ARGUMENT` for bad options
   */
  static async load(model: ModelSource | MxnetModelSource, options?: PredictorOptions): Promise<Predictor> {
    const stack = new Error();
    try {
      // The warm-up is the one predict() below, which runs on the run thread like the
      // native warm-up would: that one as well made no first prediction cheaper (first /
      // median 1.11-1.27 without it, 1.14-1.41 with it) and cost 8-10 ms of SqueezeNet's load.
      const warmUp = options?.warmUp === true;
      const nativeOptions = normalizeOptions(options);
      if (warmUp) nativeOptions.warmUp = false;
      let p: Predictor;
      if (isMxnetSource(model)) {
        const m = normalizeMxnetSource(model);
        const native = await binding().loadMxnetModel(m.symbol, m.params, m.inputShapes, nativeOptions);
        p = new Predictor(native, m.inputShapes === undefined);
      } else {
        p = new Predictor(await binding().loadModel(normalizeSource(model), nativeOptions));
      }
      if (warmUp) {
        const feeds = p.zeroFeeds();
        if (feeds) await p.predict(feeds).catch(() => undefined);
      } else {
        p.primeJs();
      }
      return p;
    } catch (e) {
      throw toNetliteError(e, stack);
    }
  }

  /**
   * [sync] Loads an ONNX or MXNet model on the calling thread (blocks it; prefer {@link Predictor.load}).
   * @throws {@link NetliteError} as for {@link Predictor.load}
   */
  static loadSync(model: ModelSource | MxnetModelSource, options?: PredictorOptions): Predictor {
    try {
      let p: Predictor;
      if (isMxnetSource(model)) {
        const m = normalizeMxnetSource(model);
        const native = binding().loadMxnetModelSync(m.symbol, m.params, m.inputShapes, normalizeOptions(options));
        p = new Predictor(native, m.inputShapes === undefined);
      } else {
        p = new Predictor(binding().loadModelSync(normalizeSource(model), normalizeOptions(options)));
      }
      if (options?.warmUp === true) {
        const feeds = p.zeroFeeds();
        if (feeds) {
          try {
            p.predictSync(feeds);
          } catch {
            // a model that fails on zeros skips the warm-up
          }
        }
      } else {
        p.primeJs();
      }
      return p;
    } catch (e) {
      throw toNetliteError(e);
    }
  }

  /** True after {@link Predictor.dispose}. */
  get disposed(): boolean {
    return this.native.isDisposed();
  }

  /**
   * [async] Runs the model off the event loop, on the predictor's own run thread; it holds no
   * libuv pool thread. A concurrent run that finds the run thread busy runs on a libuv pool
   * thread instead, holding it while it runs. Input arrays are borrowed, not copied: leave them unchanged until
   * the promise settles. Outputs are fresh arrays.
   *
   * @param feeds - one entry per model input: a {@link Tensor}, or a bare typed array when
   *   the input's shape is fully fixed
   * @returns the outputs by name
   * @throws {@link NetliteError} (as a rejection) `ERR_DISPOSED` after dispose;
   *   `ERR_NOT_FOUND` for a feed no input has; `ERR_INVALID_ARGUMENT` for a missing feed;
   *   `ERR_DTYPE`/`ERR_SHAPE` for a feed whose type or dims the input does not accept
   */
  async predict(feeds: Feeds): Promise<Results> {
    // No stack is captured up front (load does): with the caller's frames optimized that was
    // ~14% of the JS thread's time per call (MNIST, hot loop). An error from checking the feeds
    // is made before the hop and has the caller's frames; one from the run gets the awaiting
    // callers' async frames, made here, as Node's own promise APIs give.
    try {
      const outputs = await this.live().run(this.toNativeFeeds(feeds));
      return this.toResults(outputs);
    } catch (e) {
      throw toNetliteError(e);
    }
  }

  /**
   * [sync] Runs the model on the calling thread (blocks it; prefer {@link Predictor.predict}).
   * @throws {@link NetliteError} as for {@link Predictor.predict}
   */
  predictSync(feeds: Feeds): Results {
    try {
      return this.toResults(this.live().runSync(this.toNativeFeeds(feeds)));
    } catch (e) {
      throw toNetliteError(e);
    }
  }

  /**
   * Frees the model. Safe at any time: predictions in flight complete first and the memory
   * is released when the last one settles; later calls fail with `ERR_DISPOSED`. Calling it
   * again does nothing. A predictor that is garbage-collected is freed too, but later.
   */
  dispose(): void {
    this.native.dispose();
  }

  /**
   * Takes predict()'s JS path once without running the model: the feed checks on zero feeds
   * (arrays nothing writes or reads) and the wrapping of empty outputs. V8 compiles a function
   * at its first call, and with load leaving that to the first prediction it cost 0.2-0.3 ms
   * there (the MNIST model: first `predictSync` 0.53-0.68 ms, the feed checks 220-250 us of it,
   * against 0.05-0.10 later); now the load pays it. Nothing native is called, and a failure here
   * is left for predict() to report.
   */
  private primeJs(): void {
    try {
      // No zero feeds beyond kPrimeMaxElements: such an input's run dwarfs what this saves, and
      // its arrays would only weigh on the load (address space, V8's external memory count).
      const feeds = this.zeroFeeds(kPrimeMaxElements);
      if (feeds) this.toNativeFeeds(feeds);
      this.toResults(this.outputs.map((o) => ({ name: o.name, type: o.type, dims: [0], data: zeroArray(o.type, 0) })));
    } catch {
      // only a head start
    }
  }

  /**
   * Zero feeds at the declared shapes (free dims as 1); undefined when an input has no fixed
   * rank or the inputs have more than `maxElements` elements in all (nothing allocated then).
   */
  private zeroFeeds(maxElements = Infinity): Feeds | undefined {
    if (this.inputs.some((info) => this.freeRank.has(info.name))) return undefined;
    const dims = this.inputs.map((info) => info.shape.map((d) => (d < 0 ? 1 : d)));
    const sizes = dims.map((ds) => ds.reduce((a, b) => a * b, 1));
    if (sizes.reduce((a, b) => a + b, 0) > maxElements) return undefined;
    const feeds: Feeds = {};
    this.inputs.forEach((info, i) => {
      feeds[info.name] = new Tensor(info.type, zeroArray(info.type, sizes[i]), dims[i]);
    });
    return feeds;
  }

  private live(): NativeModel {
    if (this.native.isDisposed()) throw new NetliteError('ERR_DISPOSED', 'The predictor has been disposed');
    return this.native;
  }

  private toNativeFeeds(feeds: Feeds): Record<string, NativeFeed> {
    if (feeds === null || typeof feeds !== 'object' || Array.isArray(feeds) || ArrayBuffer.isView(feeds) || feeds instanceof Tensor) {
      fail('ERR_INVALID_ARGUMENT', `Expected feeds to be an object mapping input names (${quoteAll([...this.inputIndex.keys()])}) to tensors`);
    }
    const out: Record<string, NativeFeed> = {};
    for (const name of Object.keys(feeds)) {
      const info = this.inputIndex.get(name);
      if (!info) {
        fail('ERR_NOT_FOUND', `The model has no input named '${name}'; its inputs are ${quoteAll([...this.inputIndex.keys()])}`);
      }
      out[name] = this.toNativeFeed(info, feeds[name]);
    }
    const missing = this.inputs.filter((i) => !Object.prototype.hasOwnProperty.call(out, i.name)).map((i) => i.name);
    if (missing.length) fail('ERR_INVALID_ARGUMENT', `Missing feed for input ${quoteAll(missing)}`);
    return out;
  }

  private toNativeFeed(info: TensorInfo, value: unknown): NativeFeed {
    let tensor: Tensor;
    if (value instanceof Tensor) {
      tensor = value;
    } else if (isTensorArray(value)) {
      if (this.freeRank.has(info.name)) {
        fail('ERR_SHAPE', `Input '${info.name}' has no fixed rank (an MXNet model loaded without inputShapes): pass a Tensor with dims`);
      }
      if (info.shape.some((d) => d < 0)) {
        fail('ERR_SHAPE', `Input '${info.name}' has shape ${formatDims(info.shape)} with a free dim: pass a Tensor with dims`);
      }
      const type = inferType(value, info.type === 'bool');
      const size = info.shape.reduce((a, b) => a * b, 1);
      if (type !== info.type) fail('ERR_DTYPE', `Input '${info.name}' expects ${info.type} but received ${type} data`);
      if (value.length !== size) {
        fail('ERR_SHAPE', `Input '${info.name}' has shape ${formatDims(info.shape)} (${size} elements) but received ${value.length} elements`);
      }
      return { type, dims: info.shape, data: value };
    } else if (value !== null && typeof value === 'object' && 'data' in value && 'type' in value) {
      // A tensor-like object (e.g. from another copy of netlite, or onnxruntime's Tensor).
      const t = value as { type: TensorType; data: TypedArray; dims?: readonly number[] };
      tensor = new Tensor(t.type, t.data as never, t.dims);
    } else {
      return fail('ERR_INVALID_ARGUMENT', `Feed '${info.name}' must be a Tensor or a typed array`);
    }
    if (tensor.type !== info.type) {
      fail('ERR_DTYPE', `Input '${info.name}' expects ${info.type} but received a ${tensor.type} tensor`);
    }
    if (this.freeRank.has(info.name)) return { type: tensor.type, dims: tensor.dims, data: tensor.data };
    // A plain loop, not dims.some(): a closure made per call, and after a few hundred runs the
    // only hot function small enough for V8 to hand to its optimizing compiler at once, which
    // then maps 3 MB of Node's own code into the process (SqueezeNet's peak RSS at 2 threads in
    // the bench, ~500 runs: 66.0 against 60.2 MB at 1 thread, ~300 runs).
    let same = tensor.dims.length === info.shape.length;
    for (let i = 0; same && i < info.shape.length; i++) same = info.shape[i] < 0 || tensor.dims[i] === info.shape[i];
    if (!same) {
      fail('ERR_SHAPE', `Input '${info.name}' expects shape ${formatDims(info.shape)} but received ${formatDims(tensor.dims)}`);
    }
    return { type: tensor.type, dims: tensor.dims, data: tensor.data };
  }

  private toResults(outputs: NativeOutput[]): Results {
    const results: Results = {};
    for (const o of outputs) results[o.name] = toTensor(o);
    return results;
  }
}
