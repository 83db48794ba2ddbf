/**
 * An image-classification HTTP server over one Predictor, on node:http:
 * `POST /classify` (an image body → JSON top-k), `GET /` (a page to drop an image on),
 * `GET /info`, `GET /healthz`. Requests run concurrently on the async API; uploads are capped.
 * @packageDocumentation
 */
import { createHash } from 'crypto';
import * as http from 'http';

import { NetliteError } from '../errors';
import { ImagePreprocessing, ImageTensorOptions, describePreprocessing, imagesToTensor, resolvePreprocessing } from '../image';
import { topK } from '../labels';
import { Predictor } from '../predictor';
import { pageCss, pageHtml, pageScript } from './page';

/** Options of {@link createClassifyServer}. */
export interface ClassifyServerOptions {
  /** Labels by class index. */
  labels?: readonly string[];
  /** Classes per answer (default 5); a request may ask for 1–100 with `?top=K`. */
  top?: number;
  /** Largest upload in bytes (default 10 MiB); larger ones get 413 without being buffered. */
  maxBytes?: number;
  /** Images with more pixels are refused with 400 before decoding (default 40 million). */
  maxPixels?: number;
  /** Predictions in flight at once (default 4, the libuv pool's size); more requests wait. */
  concurrency?: number;
  /** Requests that may wait for a slot (default 64); beyond that, 503. */
  queue?: number;
  /** How images become the model's input (inferred from the model where it can be). */
  preprocess?: ImageTensorOptions;
  /** Output holding the scores (default the first). */
  output?: string;
  /** Softmax the scores (default `auto`: unless they already are probabilities). */
  softmax?: boolean | 'auto';
  /** Name shown on the page and in `/info` (default `model`). */
  modelName?: string;
}

/** The JSON answer of `POST /classify`. */
export interface ClassifyResponse {
  readonly predictions: readonly { readonly index: number; readonly label: string; readonly score: number }[];
  /** Milliseconds: decoding and resizing, the prediction, and the whole request. */
  readonly timeMs: { readonly decode: number; readonly inference: number; readonly total: number };
}

/** Gives requests at most `limit` slots at once; up to `queue` more wait in order. */
class Slots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number, private readonly queue: number) {}

  /** Resolves to a release function, or undefined when the queue is full. */
  acquire(): Promise<(() => void) | undefined> {
    const release = (): void => {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve(release);
    }
    if (this.waiting.length >= this.queue) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiting.push(() => resolve(release)));
  }
}

/** An error with the HTTP status to answer. */
class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

/**
 * Reads a request body up to `maxBytes`. A declared Content-Length over the limit is refused
 * before reading; a chunked body is refused as soon as it passes the limit.
 */
function readBody(req: http.IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    return Promise.reject(new HttpError(413, `The upload is ${declared} bytes; the limit is ${maxBytes}`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const onData = (chunk: Buffer): void => {
      if (done) return;
      size += chunk.length;
      if (size > maxBytes) {
        done = true;
        chunks.length = 0;
        reject(new HttpError(413, `The upload is over the limit of ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks, size));
    });
    req.on('error', (e) => {
      if (done) return;
      done = true;
      reject(new HttpError(400, `The upload failed: ${e.message}`));
    });
  });
}

/** The first file (else the first part) of a multipart/form-data body. */
function multipartFile(body: Buffer, contentType: string): Buffer {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!m) throw new HttpError(400, 'multipart/form-data without a boundary');
  const boundary = Buffer.from(`--${(m[1] ?? m[2]).trim()}`);
  const parts: { headers: string; data: Buffer }[] = [];
  let pos = body.indexOf(boundary);
  while (pos >= 0 && parts.length < 32) {
    const start = pos + boundary.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const headerEnd = body.indexOf('\r\n\r\n', start);
    if (headerEnd < 0) break;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), boundary]), headerEnd + 4);
    if (next < 0) break;
    parts.push({ headers: body.subarray(start, headerEnd).toString('latin1'), data: body.subarray(headerEnd + 4, next) });
    pos = next + 2;
  }
  const file = parts.find((p) => /filename=/i.test(p.headers)) ?? parts[0];
  if (!file) throw new HttpError(400, 'The multipart body has no part');
  return file.data;
}

/** Bytes of an oversized upload read and thrown away, past which the connection is cut instead. */
const drainLimit = 16 * 1024 * 1024;

/**
 * After a 413, reads the rest of the upload without keeping it, so the client (still sending)
 * gets to read the answer instead of a reset connection. An upload declared, or found, far past
 * the limit is cut off: `Connection: close`, and the socket destroyed once `drainLimit` is passed.
 */
function drainOversized(req: http.IncomingMessage, maxBytes: number, headers: Record<string, string>): void {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes + drainLimit) headers.Connection = 'close';
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > drainLimit) req.socket.destroy();
  });
  req.resume();
}

function scriptHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * Creates (does not start) the HTTP server. Call `listen(port, host)` on it; it does not
 * dispose the predictor when closed.
 *
 * @param predictor - the loaded classifier; shared by all requests (runs may overlap)
 * @param options - see {@link ClassifyServerOptions}
 * @returns a node:http Server
 * @throws {@link NetliteError} `ERR_INVALID_ARGUMENT` for bad options, or when the model's input
 *   cannot take images as configured (from {@link resolvePreprocessing})
 * @example
 * ```ts
 * const predictor = await Predictor.load('mobilenet.onnx');
 * const server = createClassifyServer(predictor, { labels: loadLabels('labels.txt') });
 * server.listen(8080, '127.0.0.1');
 * // curl --data-binary @cat.jpg http://127.0.0.1:8080/classify
 * ```
 */
export function createClassifyServer(predictor: Predictor, options: ClassifyServerOptions = {}): http.Server {
  const int = (name: string, v: number | undefined, def: number, min: number, max: number): number => {
    const value = v ?? def;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new NetliteError('ERR_INVALID_ARGUMENT', `Expected ${name} to be an integer from ${min} to ${max} but received ${String(v)}`);
    }
    return value;
  };
  const top = int('top', options.top, 5, 1, 100);
  const maxBytes = int('maxBytes', options.maxBytes, 10 * 1024 * 1024, 1, 2 ** 31);
  const maxPixels = int('maxPixels', options.maxPixels, 40_000_000, 1, Number.MAX_SAFE_INTEGER);
  const slots = new Slots(int('concurrency', options.concurrency, 4, 1, 1024), int('queue', options.queue, 64, 0, 100_000));
  const p: ImagePreprocessing = resolvePreprocessing(predictor, { maxPixels, ...options.preprocess });
  const output = options.output ?? predictor.outputs[0].name;
  if (!predictor.outputs.some((o) => o.name === output)) {
    throw new NetliteError('ERR_NOT_FOUND', `The model has no output '${output}'`);
  }
  const fixedBatch = p.batch > 1 ? p.batch : 0;
  const modelName = options.modelName ?? 'model';
  const labels = options.labels;
  const softmax = options.softmax ?? 'auto';
  const info = {
    model: modelName,
    input: { name: p.input, preprocessing: describePreprocessing(p) },
    output,
    classes: labels?.length,
    top,
    maxBytes,
  };
  const html = pageHtml({ modelName, top, maxBytes });
  const csp = [
    "default-src 'none'",
    `script-src ${scriptHash(pageScript)}`,
    `style-src ${scriptHash(pageCss)}`,
    'img-src blob: data:',
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');

  async function classify(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const started = performance.now();
    const k = url.searchParams.has('top') ? Number(url.searchParams.get('top')) : top;
    if (!Number.isSafeInteger(k) || k < 1 || k > 100) throw new HttpError(400, 'top must be an integer from 1 to 100');
    const contentType = String(req.headers['content-type'] ?? '');
    let body = await readBody(req, maxBytes);
    if (/^multipart\/form-data/i.test(contentType)) body = multipartFile(body, contentType);
    if (body.length === 0) throw new HttpError(400, 'The request has no image: send the image bytes as the body');
    const release = await slots.acquire();
    if (!release) throw new HttpError(503, 'The server is busy; try again shortly', { 'Retry-After': '1' });
    try {
      const t0 = performance.now();
      let tensor;
      try {
        tensor = await imagesToTensor(fixedBatch ? Array<Uint8Array>(fixedBatch).fill(body) : body, p);
      } catch (e) {
        if (e instanceof NetliteError && (e.code === 'ERR_INVALID_ARGUMENT' || e.code === 'ERR_IO')) {
          throw new HttpError(400, e.message.replace('image bytes', 'the upload'));
        }
        throw e;
      }
      const t1 = performance.now();
      const results = await predictor.predict({ [p.input]: tensor });
      const t2 = performance.now();
      const [predictions] = topK(results[output], { k, labels, softmax });
      const round = (v: number): number => Math.round(v * 100) / 100;
      const response: ClassifyResponse = {
        predictions,
        timeMs: { decode: round(t1 - t0), inference: round(t2 - t1), total: round(t2 - started) },
      };
      sendJson(res, 200, response);
    } finally {
      release();
    }
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = url.pathname;
    if (route === '/classify') {
      if (req.method !== 'POST') throw new HttpError(405, 'Use POST with the image as the body', { Allow: 'POST' });
      return classify(req, res, url);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new HttpError(route === '/' || route === '/info' || route === '/healthz' ? 405 : 404, `No ${req.method} ${route}`, { Allow: 'GET, HEAD' });
    }
    if (route === '/') {
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Length': Buffer.byteLength(html),
        'Content-Security-Policy': csp,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
      });
      res.end(req.method === 'HEAD' ? undefined : html);
      return;
    }
    if (route === '/info') return sendJson(res, 200, info);
    if (route === '/healthz') return sendJson(res, 200, { ok: !predictor.disposed });
    throw new HttpError(404, `Nothing at ${route}; try POST /classify or GET /`);
  }

  const server = http.createServer({ requestTimeout: 60_000, headersTimeout: 20_000 }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : e instanceof NetliteError && e.code === 'ERR_OUT_OF_MEMORY' ? 503 : 500;
      const message = e instanceof Error ? e.message : String(e);
      const headers = e instanceof HttpError ? { ...e.headers } : {};
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (status === 413) drainOversized(req, maxBytes, headers);
      sendJson(res, status, { error: message }, headers);
    });
  });
  return server;
}
