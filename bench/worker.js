'use strict';
// One benchmark child. bench/run.js starts a fresh process per configuration so each one pays its
// own load cost, has its own peak RSS, and cannot warm caches or allocators for the next.
//
//   node bench/worker.js '<job JSON>'
//
// Jobs: {mode:'info'}                  netlite's buildInfo (is the addon usable at all?)
//       {mode:'check', model, runtimes} run each runtime once on the same input, compare outputs
//       {mode:'time',  model, runtime, threads, gemm, seconds, minIters, warmupSeconds}
// The result is one line on stdout: "@@BENCH {json}" ({error} on failure, with exit code 1).

const fs = require('fs');
const os = require('os');
const common = require('./common');

const rssNow = () => process.memoryUsage().rss;
const peakRss = () => process.resourceUsage().maxRSS * 1024; // KiB -> bytes; whole-process peak
const msSince = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

function report(obj) {
  process.stdout.write(`${common.RESULT_MARK}${JSON.stringify(obj)}\n`);
}

function fail(err) {
  report({ error: err && err.stack ? String(err.stack).split('\n').slice(0, 4).join(' / ') : String(err) });
  process.exitCode = 1;
}

function findModel(job) {
  const m = common.listModels(job.shared).find((x) => x.key === job.model);
  if (!m) throw new Error(`unknown model ${job.model}`);
  return m;
}

async function info() {
  const lib = common.runtimes.netlite.load();
  const bi = common.netliteBuildText(lib);
  let version = null;
  try { version = typeof lib.version === 'function' ? lib.version() : null; } catch (e) { /* optional */ }
  report({ buildInfo: bi.text, openblas: bi.openblas, version });
}

/**
 * The only check possible with a single runtime on the int8 model: probabilities in [0,1] whose
 * sum is near 1. Not exactly 1: the graph re-quantizes its softmax output to steps of 1/256, so
 * the many tiny probabilities round to 0 (ort's sum is about 0.82 on the synthetic image).
 */
function sanity(data) {
  let sum = 0;
  let inRange = true;
  for (const v of data) { if (!(v >= 0 && v <= 1)) inRange = false; sum += v; }
  const ok = inRange && sum >= 0.5 && sum <= 1.05;
  return { ok, sum, top1: common.argmax(data), why: ok ? [] : [inRange ? `sum ${sum} outside [0.5, 1.05]` : 'value outside [0,1] or non-finite'] };
}

async function check(job) {
  const model = findModel(job);
  const input = common.makeInput(model);
  const outs = {};
  const notes = {};
  for (const name of job.runtimes) {
    const rt = common.runtimes[name];
    const lib = rt.load();
    const h = await rt.create(lib, model.file, { threads: job.threads || 1, gemm: job.gemm });
    notes[name] = rt.info(h);
    outs[name] = common.plainOutputs(await rt.run(h, rt.feeds(lib, h, input)));
    await rt.dispose(h);
  }
  const res = { model: model.key, kind: model.kind, comparisons: [], ok: true, info: notes };
  const labels = model.labelsFile && fs.existsSync(model.labelsFile)
    ? fs.readFileSync(model.labelsFile, 'utf8').split('\n') : null;
  const cmp = (what, kind, ref, got, required) => {
    const c = common.compareOutputs(kind, ref, got, { ...common.TOL, ...(job.tol || {}) });
    c.what = what;
    c.required = required;
    if (labels) { c.top1RefLabel = labels[c.top1Ref]; c.top1GotLabel = labels[c.top1Got]; }
    res.comparisons.push(c);
    if (required && !c.ok) res.ok = false;
  };
  const names = Object.keys(outs);
  // Runtime against runtime, output by output: the gate for timing.
  if (names.length === 2) {
    const [a, b] = names; // a = netlite, b = ort (the reference)
    for (const out of Object.keys(outs[b])) {
      if (!outs[a][out]) { res.ok = false; res.comparisons.push({ what: `${a} has no output ${out}`, ok: false, required: true, why: ['missing output'] }); continue; }
      const da = outs[a][out].dims.join('x');
      const db = outs[b][out].dims.join('x');
      if (da !== db) { res.ok = false; res.comparisons.push({ what: `${out} dims`, ok: false, required: true, why: [`${a} ${da} vs ${b} ${db}`] }); continue; }
      cmp(`${a} vs ${b} [${out}]`, model.kind, outs[b][out].data, outs[a][out].data, true);
    }
  }
  // Each runtime against torch's stored output (float models): informative when both ran, the
  // gate when only one did.
  const ref = common.readRefOutput(model);
  for (const n of names) {
    const first = Object.values(outs[n])[0];
    if (ref) cmp(`${n} vs torch reference`, 'float', ref, first.data, names.length === 1);
    else {
      const s = sanity(first.data);
      res.comparisons.push({
        what: `${n} sanity (probabilities, sum in [0.5, 1.05])`, ok: s.ok, required: names.length === 1,
        sum: s.sum, top1Got: s.top1, top1GotLabel: labels ? labels[s.top1] : undefined, why: s.why,
      });
      if (names.length === 1 && !s.ok) res.ok = false;
    }
  }
  report(res);
}

async function time(job) {
  const model = findModel(job);
  const input = common.makeInput(model); // read before the baseline: both runtimes hold it alike
  const rt = common.runtimes[job.runtime];
  const rssStart = rssNow();

  let t0 = process.hrtime.bigint();
  const lib = rt.load();
  const requireMs = msSince(t0);
  const rssBeforeLoad = rssNow();

  t0 = process.hrtime.bigint();
  const h = await rt.create(lib, model.file, { threads: job.threads, gemm: job.gemm, warmUp: job.warmUp });
  const createMs = msSince(t0);
  const rssAfterCreate = rssNow();
  const feeds = rt.feeds(lib, h, input);

  t0 = process.hrtime.bigint();
  await rt.run(h, feeds);
  const firstRunMs = msSince(t0);

  // Warm-up: at least 3 runs or warmupSeconds, whichever is longer.
  const wStart = process.hrtime.bigint();
  let warmupIters = 0;
  while (warmupIters < 3 || msSince(wStart) < job.warmupSeconds * 1000) {
    await rt.run(h, feeds);
    warmupIters++;
  }

  const latencies = [];
  const lStart = process.hrtime.bigint();
  const budgetMs = job.seconds * 1000;
  while ((latencies.length < job.minIters || msSince(lStart) < budgetMs) && latencies.length < job.maxIters) {
    const a = process.hrtime.bigint();
    await rt.run(h, feeds);
    latencies.push(Number(process.hrtime.bigint() - a) / 1e6);
  }
  const peakRssBytes = peakRss();
  const rssEnd = rssNow();
  const memory = job.runtime === 'netlite' && h.memory ? h.memory : undefined;
  await rt.dispose(h);

  report({
    model: model.key, runtime: job.runtime, threads: job.threads, gemm: job.gemm || null,
    requireMs, createMs, firstRunMs, warmupIters,
    iters: latencies.length,
    medianMs: common.median(latencies),
    p90Ms: common.quantile(latencies, 0.9),
    minMs: Math.min(...latencies),
    latenciesMs: latencies.map((x) => +x.toFixed(4)),
    rssStart, rssBeforeLoad, rssAfterCreate, rssEnd, peakRss: peakRssBytes,
    netliteMemory: memory,
    loadAvg1: os.loadavg()[0], // the machine's 1-min load while this ran: a noise indicator
  });
}

async function main() {
  const job = JSON.parse(process.argv[2] || '{}');
  if (job.mode === 'info') return info();
  if (job.mode === 'check') return check(job);
  if (job.mode === 'time') return time(job);
  throw new Error(`unknown mode ${job.mode}`);
}

process.on('unhandledRejection', fail);
main().catch(fail);
