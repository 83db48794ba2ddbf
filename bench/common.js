'use strict';
// Shared pieces of the benchmark: the model list, inputs, the two runtime adapters, statistics,
// and the child-process runner. Both bench/run.js (orchestrator) and bench/worker.js (child) use
// it, so a model or an input is defined in exactly one place.

const childProcess = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const DEFAULT_SHARED = path.resolve(ROOT, '..', 'shared');
// NETLITE_BENCH_DIST points the harness at another netlite build (or a stand-in, to test the harness).
const NETLITE_DIST = process.env.NETLITE_BENCH_DIST ? path.resolve(process.env.NETLITE_BENCH_DIST) : path.join(ROOT, 'dist', 'cjs', 'index.js');
const ORT_DIR = path.join(ROOT, 'node_modules', 'onnxruntime-node');
const WORKER = path.join(__dirname, 'worker.js');
const RESULT_MARK = '@@BENCH ';

// ---------------------------------------------------------------------------------------------
// Models

const INT8_KEY = 'mobilenet_v2_int8';

/** The benchmark models, in table order. `kind` picks the output-agreement rule. */
function listModels(sharedDir = DEFAULT_SHARED) {
  const meta = JSON.parse(fs.readFileSync(path.join(sharedDir, 'models', 'models.json'), 'utf8'));
  const models = meta.models.map((m) => ({
    key: m.name,
    kind: 'float',
    file: path.join(sharedDir, 'models', m.file),
    inputType: 'float32',
    dims: m.input.shape,
    inputFile: path.join(sharedDir, 'models', m.reference.input_file),
    refOutputFile: path.join(sharedDir, 'models', m.reference.output_file),
    gflops: m.gflops,
  }));
  const int8Dir = path.join(sharedDir, 'real', 'mobilenet_v2_1.0_224_int8');
  models.push({
    key: INT8_KEY,
    kind: 'int8',
    file: path.join(int8Dir, 'mobilenet_v2_1.0_224_int8_per_tensor.onnx'),
    inputType: 'uint8',
    dims: [1, 224, 224, 3],
    inputFile: null,
    refOutputFile: null,
    labelsFile: path.join(int8Dir, 'labels_imagenet_2012.txt'),
    gflops: 0.6, // Keras MobileNetV2 1.0/224: ~300 M MACs, same family as the float one
  });
  return models;
}

/** mulberry32: a tiny seeded PRNG, so the synthetic image is identical in every process. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A deterministic, image-like uint8 NHWC picture: smooth colour gradients, a few soft-edged
 * blobs, a stripe texture and mild noise. Not a photo (no decoder is installed and we add none),
 * but it has the local correlation and value spread of one, which keeps the int8 activations in
 * a realistic range instead of saturating as white noise would.
 */
function imagePattern(h, w, c, seed = 7) {
  const rnd = mulberry32(seed);
  const blobs = [];
  for (let i = 0; i < 6; i++) {
    blobs.push({
      cy: rnd() * h, cx: rnd() * w, r: (0.08 + 0.22 * rnd()) * Math.min(h, w),
      col: [rnd() * 255, rnd() * 255, rnd() * 255],
    });
  }
  const out = new Uint8Array(h * w * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const base = [
        60 + 120 * (x / w),
        80 + 100 * (y / h),
        140 - 60 * ((x + y) / (w + h)),
      ];
      for (const b of blobs) {
        const d = Math.hypot(y - b.cy, x - b.cx) / b.r;
        const a = d < 1 ? 1 : Math.exp(-4 * (d - 1) * (d - 1));
        for (let k = 0; k < 3; k++) base[k] = base[k] * (1 - a) + b.col[k] * a;
      }
      const stripe = 18 * Math.sin((x * 0.35 + y * 0.12));
      for (let k = 0; k < c; k++) {
        const v = base[k % 3] + stripe + (rnd() - 0.5) * 16;
        out[(y * w + x) * c + k] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
      }
    }
  }
  return out;
}

/** The input every runtime gets for `model`: the stored float input, or the synthetic picture. */
function makeInput(model) {
  if (model.inputType === 'float32') {
    const buf = fs.readFileSync(model.inputFile);
    const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    return { type: 'float32', data, dims: model.dims.slice() };
  }
  const [, h, w, c] = model.dims;
  return { type: 'uint8', data: imagePattern(h, w, c), dims: model.dims.slice() };
}

function readRefOutput(model) {
  if (!model.refOutputFile) return null;
  const buf = fs.readFileSync(model.refOutputFile);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

// ---------------------------------------------------------------------------------------------
// Runtime adapters: the same four verbs (require, create, run, dispose) for both libraries.

/** Normalises netlite's buildInfo (a function returning {text,...}, or a string) to a string. */
function netliteBuildText(nl) {
  let v = nl.buildInfo;
  if (typeof v === 'function') v = v();
  if (typeof v === 'string') return { text: v, openblas: /gemm=openblas/.test(v) };
  if (v && typeof v === 'object') {
    const text = String(v.text || JSON.stringify(v));
    return { text, openblas: v.openblas === undefined ? /gemm=openblas/.test(text) : Boolean(v.openblas) };
  }
  return { text: 'unknown', openblas: false };
}

const runtimes = {
  netlite: {
    load() {
      return require(NETLITE_DIST);
    },
    async create(lib, file, { threads, gemm, warmUp }) {
      const options = { threads };
      if (gemm) options.gemm = gemm;
      if (warmUp) options.warmUp = true; // a run on zeros inside load (netlite's default: none)
      return lib.Predictor.load(file, options);
    },
    feeds(lib, handle, input) {
      const name = handle.inputs[0].name;
      return { [name]: new lib.Tensor(input.type, input.data, input.dims) };
    },
    async run(handle, feeds) {
      return handle.predict(feeds);
    },
    info(handle) {
      return { inputs: handle.inputs, memory: handle.memory };
    },
    async dispose(handle) {
      handle.dispose();
    },
  },
  ort: {
    load() {
      return require(ORT_DIR);
    },
    async create(lib, file, { threads }) {
      return lib.InferenceSession.create(file, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
    },
    feeds(lib, handle, input) {
      return { [handle.inputNames[0]]: new lib.Tensor(input.type, input.data, input.dims) };
    },
    async run(handle, feeds) {
      return handle.run(feeds);
    },
    info(handle) {
      return { inputs: handle.inputNames, outputs: handle.outputNames };
    },
    async dispose(handle) {
      await handle.release();
    },
  },
};

/** {name: {type, dims, data}} from either library's result object. */
function plainOutputs(out) {
  const res = {};
  for (const [name, t] of Object.entries(out)) {
    res[name] = { type: t.type, dims: Array.from(t.dims, Number), data: t.data };
  }
  return res;
}

// ---------------------------------------------------------------------------------------------
// Output agreement

const TOL = { floatRel: 1e-4, int8Abs: 1e-3 };

function argmax(a) {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

/** Second-largest value's gap to the largest: tells a real top-1 mismatch from a near tie. */
function top1Gap(a) {
  const i = argmax(a);
  let second = -Infinity;
  for (let j = 0; j < a.length; j++) if (j !== i && a[j] > second) second = a[j];
  return a[i] - second;
}

/**
 * Compares `got` against `ref` (both Float32Array-like) with the rule of the model's kind:
 * float models: max|got-ref| / max|ref| <= 1e-4; int8 (probabilities): max abs <= 1e-3 and the
 * same top-1 class. The int8 model re-quantizes its output to steps of 1/256 (3.9e-3), so 1e-3
 * means "the same quantized probabilities"; --int8-tol loosens it explicitly.
 */
function compareOutputs(kind, ref, got, tol = TOL) {
  const r = { n: ref.length, maxAbs: 0, maxRef: 0, rel: 0, top1Ref: argmax(ref), top1Got: argmax(got), ok: true, why: [] };
  if (ref.length !== got.length) {
    r.ok = false;
    r.why.push(`length ${got.length} != ${ref.length}`);
    return r;
  }
  for (let i = 0; i < ref.length; i++) {
    if (!Number.isFinite(got[i])) {
      r.ok = false;
      r.why.push(`non-finite value at ${i}`);
      return r;
    }
    const d = Math.abs(got[i] - ref[i]);
    if (d > r.maxAbs) r.maxAbs = d;
    if (Math.abs(ref[i]) > r.maxRef) r.maxRef = Math.abs(ref[i]);
  }
  r.rel = r.maxRef > 0 ? r.maxAbs / r.maxRef : r.maxAbs;
  r.top1GapRef = top1Gap(ref);
  if (kind === 'int8') {
    if (r.maxAbs > tol.int8Abs) { r.ok = false; r.why.push(`max abs diff ${r.maxAbs.toExponential(3)} > ${tol.int8Abs}`); }
    if (r.top1Ref !== r.top1Got) { r.ok = false; r.why.push(`top-1 ${r.top1Got} != ${r.top1Ref} (reference top-1 margin ${r.top1GapRef.toExponential(2)})`); }
  } else if (r.rel > tol.floatRel) {
    r.ok = false;
    r.why.push(`max abs diff / max |ref| = ${r.rel.toExponential(3)} > ${tol.floatRel}`);
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Statistics

/** Linear-interpolated quantile of an unsorted array (q in [0,1]). */
function quantile(values, q) {
  if (!values.length) return NaN;
  const s = Float64Array.from(values).sort();
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}
const median = (v) => quantile(v, 0.5);

// ---------------------------------------------------------------------------------------------
// Children

/**
 * Runs bench/worker.js with `job` in a fresh Node process. Resolves (never rejects) with
 * {ok, result} or {ok:false, error, stderr}; a crash, a non-zero exit, garbage output or a
 * timeout (SIGKILL) are all failures, so one bad configuration cannot hang or abort the run.
 */
function spawnWorker(job, timeoutMs) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = childProcess.spawn(process.execPath, [WORKER, JSON.stringify(job)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const finish = (r) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      r.wallMs = Date.now() - started;
      resolve(r);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; if (stderr.length > 1e6) stderr = stderr.slice(-1e5); });
    child.on('error', (err) => finish({ ok: false, error: `spawn failed: ${err.message}`, stderr }));
    child.on('close', (code, signal) => {
      const line = stdout.split('\n').reverse().find((l) => l.startsWith(RESULT_MARK));
      let result = null;
      if (line) {
        try { result = JSON.parse(line.slice(RESULT_MARK.length)); } catch (e) { /* reported below */ }
      }
      if (timedOut) return finish({ ok: false, error: `timed out after ${(timeoutMs / 1000).toFixed(0)} s (killed)`, stderr });
      if (result && result.error) return finish({ ok: false, error: result.error, stderr, result });
      if (code !== 0 || signal) {
        return finish({ ok: false, error: `child exited with ${signal ? `signal ${signal}` : `code ${code}`}`, stderr, result });
      }
      if (!result) return finish({ ok: false, error: 'child printed no result', stderr });
      finish({ ok: true, result, stderr });
    });
  });
}

/** The last few lines of a child's stderr, indented, for failure reports. */
function tail(text, lines = 8) {
  if (!text) return '';
  return text.trimEnd().split('\n').slice(-lines).map((l) => `      | ${l}`).join('\n');
}

// ---------------------------------------------------------------------------------------------
// Machine and binaries

function machineInfo() {
  let cpu = os.cpus()[0] ? os.cpus()[0].model : 'unknown';
  let flags = [];
  try {
    const text = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const m = text.match(/^model name\s*:\s*(.*)$/m);
    if (m) cpu = m[1].trim();
    const f = text.match(/^flags\s*:\s*(.*)$/m);
    if (f) flags = f[1].split(/\s+/).filter((x) => ['avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx_vnni', 'avx512_bf16'].includes(x));
  } catch (e) { /* not Linux */ }
  let ortVersion = 'unknown';
  try { ortVersion = JSON.parse(fs.readFileSync(path.join(ORT_DIR, 'package.json'), 'utf8')).version; } catch (e) { /* absent */ }
  return {
    cpu,
    cores: os.cpus().length,
    flags,
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    ortVersion,
    env: { OPENBLAS_CORETYPE: process.env.OPENBLAS_CORETYPE, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE },
  };
}

/** Size of `file` after `strip` (on a temporary output; the original is untouched), or null. */
function strippedSize(file) {
  const out = path.join(os.tmpdir(), `netlite-bench-strip-${process.pid}-${path.basename(file)}`);
  try {
    childProcess.execFileSync('strip', ['-o', out, file], { stdio: 'ignore' });
    return fs.statSync(out).size;
  } catch (e) {
    return null;
  } finally {
    try { fs.unlinkSync(out); } catch (e) { /* never written */ }
  }
}

/** Shared libraries a binary loads that are not part of the C/C++ runtime (e.g. OpenBLAS). */
function extraSharedLibs(file) {
  try {
    const text = childProcess.execFileSync('ldd', [file], { encoding: 'utf8' });
    const base = /^(linux-vdso|libc\.|libm\.|libdl\.|libpthread\.|librt\.|libstdc\+\+|libgcc_s|ld-linux|\/lib64\/ld-linux)/;
    return text.split('\n').map((l) => l.trim()).filter(Boolean)
      .map((l) => { const m = l.match(/^(\S+)(?:\s+=>\s+(\S+))?/); return { name: m[1], path: m[2] || null }; })
      .filter((x) => !base.test(x.name))
      .map((x) => {
        let size = null;
        try { size = x.path ? fs.statSync(fs.realpathSync(x.path)).size : null; } catch (e) { /* not found */ }
        return { name: x.name, path: x.path, bytes: size };
      });
  } catch (e) {
    return [];
  }
}

function fileEntry(file) {
  const real = fs.realpathSync(file);
  return { file: path.relative(ROOT, file), bytes: fs.statSync(real).size, strippedBytes: strippedSize(real) };
}

/** The native parts of both runtimes, with stripped sizes. */
function binarySizes() {
  const sizes = { netlite: null, ort: null };
  const candidates = [path.join(ROOT, 'build', 'Release', 'netlite.node')];
  const prebuilds = path.join(ROOT, 'prebuilds', `${process.platform}-${process.arch}`);
  if (fs.existsSync(prebuilds)) {
    for (const f of fs.readdirSync(prebuilds)) if (f.endsWith('.node')) candidates.push(path.join(prebuilds, f));
  }
  const nlFile = candidates.find((f) => fs.existsSync(f));
  if (nlFile) {
    const e = fileEntry(nlFile);
    sizes.netlite = { files: [e], bytes: e.bytes, strippedBytes: e.strippedBytes, sharedLibs: extraSharedLibs(nlFile) };
  }
  const binDir = path.join(ORT_DIR, 'bin');
  if (fs.existsSync(binDir)) {
    const napi = fs.readdirSync(binDir).filter((d) => d.startsWith('napi-v')).sort().pop();
    const dir = napi && path.join(binDir, napi, process.platform, process.arch);
    if (dir && fs.existsSync(dir)) {
      const files = fs.readdirSync(dir)
        .filter((f) => f.endsWith('.node') || /^libonnxruntime\.so/.test(f))
        .map((f) => path.join(dir, f))
        // libonnxruntime.so.1 and libonnxruntime.so.1.x may be links to one file: count it once.
        .filter((f, i, all) => all.findIndex((g) => fs.realpathSync(g) === fs.realpathSync(f)) === i)
        .map(fileEntry);
      sizes.ort = {
        files,
        bytes: files.reduce((s, f) => s + f.bytes, 0),
        strippedBytes: files.every((f) => f.strippedBytes !== null) ? files.reduce((s, f) => s + f.strippedBytes, 0) : null,
      };
    }
  }
  return sizes;
}

module.exports = {
  ROOT, DEFAULT_SHARED, NETLITE_DIST, ORT_DIR, RESULT_MARK, INT8_KEY, TOL,
  listModels, makeInput, readRefOutput, imagePattern,
  runtimes, plainOutputs, netliteBuildText, compareOutputs, argmax,
  quantile, median, spawnWorker, tail, machineInfo, binarySizes,
};
