/**
 * Loads the native addon and declares exactly what it exports (native/addon/addon.cc).
 * @packageDocumentation
 * @internal
 */
import * as fs from 'fs';
import * as path from 'path';

/** Element type names as the addon reports them (`unknown` for a type outside TensorType). */
export type NativeTypeName = 'float32' | 'int64' | 'int32' | 'uint8' | 'int8' | 'bool' | 'unknown';

/** Any typed array the addon reads or returns. */
export type NativeArray = Float32Array | BigInt64Array | Int32Array | Uint8Array | Int8Array;

/** One model input or output as described by the model. */
export interface NativeTensorInfo {
  name: string;
  type: NativeTypeName;
  /** -1 for a dim the model leaves free. */
  shape: number[];
}

/** One feed, already validated by lib/: the addon checks it again. */
export interface NativeFeed {
  type: string;
  dims: readonly number[];
  data: NativeArray;
}

/** One output of a run; `data` is a fresh typed array owned by the caller. */
export interface NativeOutput {
  name: string;
  type: NativeTypeName;
  dims: number[];
  data: NativeArray;
}

/** Load options, already validated by lib/. */
export interface NativeLoadOptions {
  threads?: number;
  gemm?: 'auto' | 'reference' | 'netlite' | 'openblas';
  optimize?: boolean;
  memoryLimit?: number;
  warmUp?: boolean;
}

/** Memory figures of a model, in bytes. */
export interface NativeMemory {
  weightsBytes: number;
  arenaBytes: number;
  workspaceBytes: number;
}

/** A loaded model (a type-tagged native object). */
export interface NativeModel {
  inputs(): NativeTensorInfo[];
  outputs(): NativeTensorInfo[];
  memory(): NativeMemory;
  /** Runs on the model's run thread (or, when that is busy, a libuv pool thread); outputs in model order. */
  run(feeds: Record<string, NativeFeed>): Promise<NativeOutput[]>;
  run(feeds: Record<string, NativeFeed>, callback: (error: Error | null, outputs?: NativeOutput[]) => void): void;
  runSync(feeds: Record<string, NativeFeed>): NativeOutput[];
  /** Safe at any time; runs in flight finish first. Idempotent. */
  dispose(): void;
  isDisposed(): boolean;
}

/** What the addon was built with. */
export interface NativeBuildInfo {
  /** `netlite_build_info()`, e.g. "netlite 0.1.0 gemm=openblas kernel=avx512". */
  text: string;
  version: string;
  /** True when compiled with NETLITE_USE_OPENBLAS. */
  openblas: boolean;
  napiVersion: number;
}

/** The addon's exports. */
export interface NativeBinding {
  version(): string;
  buildInfo(): NativeBuildInfo;
  loadModel(source: string | Uint8Array | ArrayBuffer, options: NativeLoadOptions): Promise<NativeModel>;
  loadModel(
    source: string | Uint8Array | ArrayBuffer,
    options: NativeLoadOptions,
    callback: (error: Error | null, model?: NativeModel) => void,
  ): void;
  loadModelSync(source: string | Uint8Array | ArrayBuffer, options: NativeLoadOptions): NativeModel;
  /** An MXNet model: symbol and params as paths or bytes; inputShapes as MXPredCreate's (-1 = free dim). */
  loadMxnetModel(
    symbol: string | Uint8Array,
    params: string | Uint8Array,
    inputShapes: Record<string, number[]> | undefined,
    options: NativeLoadOptions,
  ): Promise<NativeModel>;
  loadMxnetModelSync(
    symbol: string | Uint8Array,
    params: string | Uint8Array,
    inputShapes: Record<string, number[]> | undefined,
    options: NativeLoadOptions,
  ): NativeModel;
  /** Models of this thread whose native memory is not freed yet (for tests). */
  _liveModels(): number;
  /** Bytes of external memory V8 counts in this isolate, netlite's reports included (for tests). */
  _externalMemory(): number;
}

/** The directory holding netlite's package.json (the source tree or the installed package). */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    try {
      const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: unknown };
      if (pkg.name === 'netlite') return dir;
    } catch {
      // not here: keep climbing
    }
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(__dirname, '..', '..');
    dir = parent;
  }
}

let cached: NativeBinding | undefined;

/**
 * The addon, loaded on first use: `NETLITE_ADDON_PATH` if set, else through node-gyp-build
 * (a local build in build/Release, then a matching prebuild in prebuilds/).
 * @throws Error with steps to fix the installation when no binary can be loaded
 */
export function binding(): NativeBinding {
  if (cached) return cached;
  const explicit = process.env.NETLITE_ADDON_PATH;
  const root = packageRoot();
  // netlite drives OpenBLAS single-threaded (it splits GEMMs over its own pool). Left
  // alone, OpenBLAS starts a thread per core as the addon is loaded, and those threads
  // spin (sched_yield) for about 0.1 s: a core taken from loading and the first runs.
  // OpenBLAS reads this once, while the addon loads; the variable is removed again after,
  // so child processes see the environment the user set. A user's own setting wins.
  const quietBlas = !['OPENBLAS_NUM_THREADS', 'GOTO_NUM_THREADS', 'OMP_NUM_THREADS'].some((v) => v in process.env);
  if (quietBlas) process.env.OPENBLAS_NUM_THREADS = '1';
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const loaded: unknown = explicit ? require(path.resolve(explicit)) : require('node-gyp-build')(root);
    cached = loaded as NativeBinding;
    return cached;
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    const lines = [
      `netlite: cannot load the native addon for ${process.platform}-${process.arch} (Node ${process.versions.node}, N-API ${process.versions.napi}).`,
      `  Reason: ${reason.split('\n')[0]}`,
      '  Possible solutions:',
      '  - Build it from source: `npm rebuild netlite` (needs python3, make and a C++17 compiler;',
      '    for OpenBLAS GEMM also pkg-config and libopenblas-dev).',
      '  - In a netlite checkout: `npm install` then `npx node-gyp rebuild`.',
      '  - If you installed with --ignore-scripts, run `npm rebuild netlite` once.',
      '  - Bundlers: keep netlite external (it loads a .node file at run time), or set',
      '    NETLITE_ADDON_PATH to the path of netlite.node.',
    ];
    if (explicit) lines.push(`  (NETLITE_ADDON_PATH is set to ${explicit}.)`);
    const error = new Error(lines.join('\n'));
    (error as Error & { cause?: unknown }).cause = e;
    throw error;
  } finally {
    if (quietBlas) delete process.env.OPENBLAS_NUM_THREADS;
  }
}
