/**
 * netlite: deep-learning inference in a single C++ file, as a Node.js native addon.
 *
 * @example
 * ```ts
 * import { Predictor, Tensor } from 'netlite';
 * const predictor = await Predictor.load('model.onnx');
 * const { output } = await predictor.predict({ input: new Tensor('float32', data, [1, 3, 224, 224]) });
 * ```
 * @packageDocumentation
 */
import { binding } from './native';

export { NetliteError, errorCodes } from './errors';
export type { NetliteErrorCode } from './errors';
export { Tensor, tensorTypes } from './tensor';
export type { TensorData, TensorType, TypedArray } from './tensor';
export { Predictor } from './predictor';
export type { Feeds, MemoryInfo, ModelSource, PredictorOptions, Results, TensorInfo } from './predictor';
export type { MxnetFile, MxnetModelSource } from './mxnet/model';
export { MtcnnDetector } from './mxnet/mtcnn';
export type { Face, MtcnnOptions } from './mxnet/mtcnn';
export { loadImage } from './mxnet/image';
export type { RgbImage } from './mxnet/image';
export { imageToTensor, imagesToTensor, resolvePreprocessing, describePreprocessing, normalizePresets, hasImageDecoder } from './image';
export type { ChannelOrder, ImageInputInfo, ImageLayout, ImagePreprocessing, ImageSource, ImageTensorOptions, ModelWithInputs, Normalization, NormalizePreset, RawImage, ResizeMode } from './image';
export { loadLabels, parseLabels, topK } from './labels';
export type { Prediction, TopKOptions } from './labels';
export type { ClassifyResponse, ClassifyServerOptions } from './serve/server';

type ServerModule = typeof import('./serve/server');

/**
 * An HTTP server that classifies images posted to `POST /classify` (see `netlite serve`).
 * The server module (and node:http) loads on the first call, so a process that only
 * predicts does not pay for it (about 4 MB of RSS).
 * @param predictor - a loaded image classifier
 * @param options - see {@link ClassifyServerOptions}
 * @returns a node:http Server, not yet listening
 * @throws {@link NetliteError} `ERR_INVALID_ARGUMENT` for bad options, or when the model's input
 *   cannot take images as configured
 */
export function createClassifyServer(
  predictor: Parameters<ServerModule['createClassifyServer']>[0],
  options?: Parameters<ServerModule['createClassifyServer']>[1],
): ReturnType<ServerModule['createClassifyServer']> {
  const server = require('./serve/server') as ServerModule;
  return server.createClassifyServer(predictor, options);
}

/** How the loaded native addon was built. */
export interface BuildInfo {
  /** netlite's version, "MAJOR.MINOR.PATCH". */
  readonly version: string;
  /** True when the addon was compiled with OpenBLAS (so `gemm: 'openblas'` uses it). */
  readonly openblas: boolean;
  /** The engine's own description, e.g. "netlite 0.1.0 gemm=openblas kernel=avx512". */
  readonly text: string;
  /** N-API version the addon targets. */
  readonly napiVersion: number;
}

/**
 * netlite's version ("MAJOR.MINOR.PATCH"), from the native library.
 * @throws Error when the native addon cannot be loaded (the message says how to fix it)
 */
export function version(): string {
  return binding().version();
}

/**
 * How the native addon was built: OpenBLAS or not, and the engine's build string.
 * @throws Error when the native addon cannot be loaded (the message says how to fix it)
 */
export function buildInfo(): BuildInfo {
  const info = binding().buildInfo();
  return Object.freeze({ version: info.version, openblas: info.openblas, text: info.text, napiVersion: info.napiVersion });
}
