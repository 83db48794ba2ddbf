#!/usr/bin/env node
'use strict';
// npm run bench [-- options]: netlite against onnxruntime-node on the same models and inputs, in
// one run, each configuration in its own process, runtimes alternating, R rounds. Outputs are
// checked to agree before anything is timed. Prints a table of ratios netlite / onnxruntime and
// writes every raw figure to JSON. See bench/README.md.

const fs = require('fs');
const os = require('os');
const path = require('path');
const common = require('./common');

const HELP = `usage: node bench/run.js [options]
  --models a,b        models to run (default: all): ${'%MODELS%'}
  --threads 1,2       thread counts (default 1,2)
  --rounds N          rounds; each reports its median, the table shows the median of those (default 3)
  --seconds S         timed seconds per configuration, at least --min-iters runs (default 2)
  --warmup S          warm-up seconds after the first run, at least 3 runs (default 0.3)
  --min-iters N       minimum timed runs (default 20)
  --timeout S         a child taking longer is killed and reported failed (default 120)
  --gemm a,b          extra netlite configs with options.gemm = each (openblas|netlite|reference|auto)
  --warm-up           load netlite with warmUp: true (its create then includes a run on zeros,
                      and its first run is a warm one)
  --json FILE         raw figures (default bench/results/latest.json)
  --quick             1 round, 0.5 s: a smoke test
  --no-ort            netlite alone (same as --only netlite)
  --only ort|netlite  one runtime alone (outputs then checked against torch's stored output)
  --int8-tol X        int8 max abs diff on probabilities (default 1e-3; output steps are 1/256)
  --shared DIR        the shared data folder (default ../shared)`;

// ---------------------------------------------------------------------------------------------
// Options

function parseArgs(argv) {
  const o = {
    models: null, threads: [1, 2], rounds: 3, seconds: 2, warmup: 0.3, minIters: 20, maxIters: 100000,
    timeout: 120, gemm: [], warmUp: false, json: path.join(__dirname, 'results', 'latest.json'),
    runtimes: ['netlite', 'ort'], shared: common.DEFAULT_SHARED,
  };
  const list = (v) => String(v).split(',').map((s) => s.trim()).filter(Boolean);
  const num = (name, v, min) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`${name} needs a number >= ${min}, got ${v}`);
    return n;
  };
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = () => {
      if (inline !== undefined) return inline;
      if (i + 1 >= argv.length) throw new Error(`${flag} needs a value`);
      return argv[++i];
    };
    switch (flag) {
      case '--models': o.models = list(val()); break;
      case '--threads': o.threads = list(val()).map((t) => num('--threads', t, 1)); break;
      case '--rounds': o.rounds = Math.round(num('--rounds', val(), 1)); break;
      case '--seconds': o.seconds = num('--seconds', val(), 0); break;
      case '--warmup': o.warmup = num('--warmup', val(), 0); break;
      case '--min-iters': o.minIters = Math.round(num('--min-iters', val(), 1)); break;
      case '--timeout': o.timeout = num('--timeout', val(), 1); break;
      case '--gemm': o.gemm = list(val()); break;
      case '--warm-up': o.warmUp = true; break;
      case '--json': o.json = path.resolve(val()); break;
      case '--quick': quick = true; break;
      case '--no-ort': o.runtimes = ['netlite']; break;
      case '--only': {
        const r = val();
        if (!['ort', 'netlite'].includes(r)) throw new Error(`--only takes ort or netlite, got ${r}`);
        o.runtimes = [r];
        break;
      }
      case '--shared': o.shared = path.resolve(val()); break;
      case '--int8-tol': o.int8Tol = num('--int8-tol', val(), 0); break;
      case '-h': case '--help': o.help = true; break;
      default: throw new Error(`unknown option ${a} (try --help)`);
    }
  }
  if (quick) { o.rounds = 1; o.seconds = 0.5; o.warmup = 0.1; }
  for (const g of o.gemm) {
    if (!['openblas', 'netlite', 'reference', 'auto'].includes(g)) throw new Error(`--gemm takes openblas|netlite|reference|auto, got ${g}`);
  }
  if (o.gemm.length && !o.runtimes.includes('netlite')) throw new Error('--gemm needs netlite (drop --only ort)');
  return o;
}

// ---------------------------------------------------------------------------------------------
// Formatting

const MB = 1e6; // decimal MB throughout, as in shared/notes/peers.md
const fmtMs = (v) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(1) : v.toFixed(2)) : '-');
const fmtMB = (b) => (Number.isFinite(b) ? (b / MB).toFixed(1) : '-');
const fmtX = (v) => (Number.isFinite(v) ? v.toFixed(2) : '-');
/** A ratio with ✓/✗ against a target: `le` = must be at most, `ge` = at least. */
function mark(v, target, dir = 'le') {
  if (!Number.isFinite(v)) return '-';
  const ok = dir === 'le' ? v <= target : v >= target;
  tally[ok ? 'pass' : 'miss']++;
  return `${fmtX(v)} ${ok ? '✓' : '✗'}`;
}
const tally = { pass: 0, miss: 0 };

function table(header, rows) {
  const width = (s) => [...String(s)].length;
  const w = header.map((h, c) => Math.max(width(h), ...rows.map((r) => width(r[c]))));
  const pad = (s, c) => (c === 0 ? String(s) + ' '.repeat(w[c] - width(s)) : ' '.repeat(w[c] - width(s)) + String(s));
  const line = (r) => r.map(pad).join('  ');
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`bench: ${e.message}`);
    process.exit(2);
  }
  const allModels = common.listModels(opts.shared);
  if (opts.help) {
    console.log(HELP.replace('%MODELS%', allModels.map((m) => m.key).join(',')));
    return;
  }
  const unknown = (opts.models || []).filter((k) => !allModels.some((m) => m.key === k));
  if (unknown.length) {
    console.error(`bench: unknown model ${unknown.join(', ')}; known: ${allModels.map((m) => m.key).join(', ')}`);
    process.exit(2);
  }
  const models = opts.models ? opts.models.map((k) => allModels.find((m) => m.key === k)) : allModels;
  const timeoutMs = opts.timeout * 1000;
  const useNl = opts.runtimes.includes('netlite');
  const useOrt = opts.runtimes.includes('ort');
  const failures = [];

  // Is each runtime usable at all? A missing build is a setup problem, not a benchmark result.
  let netlite = null;
  if (useNl) {
    if (!fs.existsSync(common.NETLITE_DIST)) {
      console.error(`bench: ${path.relative(process.cwd(), common.NETLITE_DIST)} is missing: build netlite first ` +
        '(npm run build:native && npm run build:ts), or run onnxruntime alone with --only ort.');
      process.exit(2);
    }
    const r = await common.spawnWorker({ mode: 'info' }, 60000);
    if (!r.ok) {
      console.error(`bench: netlite does not load: ${r.error}\n${common.tail(r.stderr)}\n` +
        'Build it (npm run build:native && npm run build:ts), or run onnxruntime alone with --only ort.');
      process.exit(2);
    }
    netlite = r.result;
    if (opts.gemm.includes('openblas') && !netlite.openblas) {
      console.log(`!! netlite was built without OpenBLAS (${netlite.buildInfo}): gemm=openblas configs will fail.`);
    }
  }
  if (useOrt && !fs.existsSync(common.ORT_DIR)) {
    console.error('bench: node_modules/onnxruntime-node is missing: ONNXRUNTIME_NODE_INSTALL=skip npm ci, or pass --no-ort.');
    process.exit(2);
  }

  const machine = common.machineInfo();
  const sizes = common.binarySizes();
  const started = new Date();
  const loadStart = os.loadavg()[0];
  console.log(`netlite bench  ${started.toISOString()}  ${machine.cpu}, ${machine.cores} cores, node ${machine.node}`);
  console.log(`runtimes: ${opts.runtimes.join(', ')}${opts.gemm.length ? ` + netlite gemm=${opts.gemm.join(',')}` : ''}; ` +
    `threads ${opts.threads.join(',')}; ${opts.rounds} round(s) x ${opts.seconds} s (>= ${opts.minIters} runs); timeout ${opts.timeout} s`);
  if (netlite) console.log(`netlite: ${netlite.buildInfo}`);

  // 1. Correctness: one child per model runs both runtimes once on the same input.
  console.log('\n== output agreement (before timing) ==');
  const checks = {};
  const okModels = [];
  for (const m of models) {
    const r = await common.spawnWorker({ mode: 'check', model: m.key, shared: opts.shared, runtimes: opts.runtimes, threads: 1,
      tol: opts.int8Tol !== undefined ? { int8Abs: opts.int8Tol } : undefined }, timeoutMs);
    checks[m.key] = r.ok ? r.result : { ok: false, error: r.error, stderr: r.stderr && r.stderr.slice(-4000) };
    if (r.ok && r.result.ok) {
      okModels.push(m);
      for (const c of r.result.comparisons) console.log(`  ok    ${m.key.padEnd(18)} ${describeCmp(c)}`);
    } else {
      failures.push(`${m.key}: output check failed`);
      console.log(`\n  !!!!! ${m.key}: OUTPUTS DISAGREE OR THE CHECK FAILED — not timed !!!!!`);
      if (!r.ok) console.log(`        ${r.error}\n${common.tail(r.stderr)}`);
      else for (const c of r.result.comparisons) console.log(`  ${c.ok ? 'ok   ' : 'FAIL '} ${m.key.padEnd(18)} ${describeCmp(c)}`);
      console.log('');
    }
  }

  // 2. Timing: rounds outermost, then model and threads; the runtime order flips every round so
  //    neither runtime always runs first after a model change (drift and cache effects hit both).
  const configs = [];
  if (useNl) {
    configs.push({ runtime: 'netlite', gemm: null, label: 'netlite' });
    for (const g of opts.gemm) configs.push({ runtime: 'netlite', gemm: g, label: `netlite[gemm=${g}]` });
  }
  if (useOrt) configs.push({ runtime: 'ort', gemm: null, label: 'ort' });
  const runs = [];
  const total = opts.rounds * okModels.length * opts.threads.length * configs.length;
  let n = 0;
  if (total) console.log(`\n== timing: ${total} child processes ==`);
  for (let round = 0; round < opts.rounds; round++) {
    for (const m of okModels) {
      for (const threads of opts.threads) {
        const order = round % 2 === 0 ? configs : configs.slice().reverse();
        for (const cfg of order) {
          n++;
          const job = {
            mode: 'time', model: m.key, shared: opts.shared, runtime: cfg.runtime, gemm: cfg.gemm, threads,
            warmUp: opts.warmUp, seconds: opts.seconds, warmupSeconds: opts.warmup, minIters: opts.minIters, maxIters: opts.maxIters,
          };
          const r = await common.spawnWorker(job, timeoutMs);
          const rec = { round, model: m.key, threads, config: cfg.label, ok: r.ok, wallMs: r.wallMs };
          const head = `  [${String(n).padStart(String(total).length)}/${total}] r${round + 1} ${m.key.padEnd(18)} t=${threads} ${cfg.label.padEnd(20)}`;
          if (r.ok) {
            Object.assign(rec, r.result);
            const x = r.result;
            console.log(`${head} median ${fmtMs(x.medianMs).padStart(7)} ms  p90 ${fmtMs(x.p90Ms).padStart(7)}  create ${fmtMs(x.createMs).padStart(7)}  ` +
              `first ${fmtMs(x.firstRunMs).padStart(7)}  peak RSS ${fmtMB(x.peakRss).padStart(6)} MB  (${x.iters} runs)`);
          } else {
            rec.error = r.error;
            rec.stderr = r.stderr && r.stderr.slice(-4000);
            failures.push(`${m.key} t=${threads} ${cfg.label} round ${round + 1}: ${r.error}`);
            console.log(`${head} FAILED: ${r.error}\n${common.tail(r.stderr)}`);
          }
          runs.push(rec);
        }
      }
    }
  }

  // 3. Aggregate: the median over rounds of each round's figure.
  const summary = {};
  for (const m of models) {
    summary[m.key] = {};
    for (const t of opts.threads) {
      summary[m.key][t] = {};
      for (const cfg of configs) {
        const rs = runs.filter((r) => r.ok && r.model === m.key && r.threads === t && r.config === cfg.label);
        const med = (f) => (rs.length ? common.median(rs.map(f)) : NaN);
        summary[m.key][t][cfg.label] = {
          rounds: rs.length,
          medianMs: med((r) => r.medianMs),
          p90Ms: med((r) => r.p90Ms),
          createMs: med((r) => r.createMs),
          firstRunMs: med((r) => r.firstRunMs),
          firstOverMedian: med((r) => r.firstRunMs / r.medianMs),
          peakRss: med((r) => r.peakRss),
          rssBeforeLoad: med((r) => r.rssBeforeLoad),
          roundMediansMs: rs.map((r) => r.medianMs),
        };
      }
    }
  }

  // 4. The tables.
  const get = (model, t, label, f) => {
    const s = summary[model] && summary[model][t] && summary[model][t][label];
    return s && s.rounds ? s[f] : NaN;
  };
  const ratios = {};
  console.log('\n== netlite / onnxruntime (median of per-round figures; ✓ meets target, ✗ misses) ==');
  for (const t of opts.threads) {
    const rows = models.map((m) => {
      const nl = (f) => get(m.key, t, 'netlite', f);
      const ort = (f) => get(m.key, t, 'ort', f);
      const r = {
        latency: ratio(nl('medianMs'), ort('medianMs')),
        p90: ratio(nl('p90Ms'), ort('p90Ms')),
        create: ratio(nl('createMs'), ort('createMs')),
        firstOverMedian: nl('firstOverMedian'),
        firstOverMedianOrt: ort('firstOverMedian'),
        peakRss: ratio(nl('peakRss'), ort('peakRss')),
      };
      (ratios[m.key] = ratios[m.key] || {})[t] = r;
      const failed = checks[m.key] && !checks[m.key].ok ? ' (check FAILED)' : '';
      return [
        m.key + failed,
        fmtMs(nl('medianMs')), fmtMs(ort('medianMs')), mark(r.latency, 1.0),
        fmtX(r.p90),
        `${fmtMs(nl('createMs'))}/${fmtMs(ort('createMs'))}`, mark(r.create, 0.5),
        mark(r.firstOverMedian, 1.5),
        fmtMB(nl('peakRss')), fmtMB(ort('peakRss')), mark(r.peakRss, 0.6),
      ];
    });
    console.log(`\nthreads = ${t}`);
    console.log(table(
      ['model', 'netlite ms', 'ort ms', 'ratio ≤1.0', 'p90 ratio', 'create ms nl/ort', 'ratio ≤0.5', 'nl first/median ≤1.5',
        'nl RSS MB', 'ort RSS MB', 'ratio ≤0.6'],
      rows,
    ));
  }

  // netlite's GEMM variants: the build without OpenBLAS should be within 1.3x of the one with it.
  const gemmRows = [];
  if (opts.gemm.length) {
    for (const m of models) {
      for (const t of opts.threads) {
        const row = [`${m.key} t=${t}`, fmtMs(get(m.key, t, 'netlite', 'medianMs'))];
        for (const g of opts.gemm) row.push(fmtMs(get(m.key, t, `netlite[gemm=${g}]`, 'medianMs')));
        const rNoBlas = ratio(get(m.key, t, 'netlite[gemm=netlite]', 'medianMs'), get(m.key, t, 'netlite[gemm=openblas]', 'medianMs'));
        row.push(mark(rNoBlas, 1.3));
        ((ratios[m.key] = ratios[m.key] || {})[t] = ratios[m.key][t] || {}).netliteOverOpenblas = rNoBlas;
        gemmRows.push(row);
      }
    }
    console.log('\nnetlite GEMM variants (median ms)');
    console.log(table(['model', 'netlite (auto)', ...opts.gemm.map((g) => `gemm=${g}`), 'netlite/openblas ≤1.3'], gemmRows));
  }

  // int8 vs float: a proxy until a dequantized twin of the int8 model exists (see bench/int8.js).
  const int8 = {};
  if (models.some((m) => m.key === common.INT8_KEY) && models.some((m) => m.key === 'mobilenet_v2')) {
    const lines = [];
    for (const label of configs.map((c) => c.label).filter((l) => l === 'netlite' || l === 'ort')) {
      for (const t of opts.threads) {
        const f = get('mobilenet_v2', t, label, 'medianMs');
        const q = get(common.INT8_KEY, t, label, 'medianMs');
        const sp = ratio(f, q);
        int8[`${label}|${t}`] = { floatMs: f, int8Ms: q, speedup: sp };
        lines.push(`  ${label.padEnd(8)} t=${t}: float mobilenet_v2 ${fmtMs(f)} ms, int8 ${fmtMs(q)} ms, float/int8 ` +
          `${label === 'netlite' ? mark(sp, 1.5, 'ge') : fmtX(sp)}`);
      }
    }
    console.log('\nint8 QDQ vs float (proxy: torchvision float MobileNetV2 vs ST\'s int8 Keras MobileNetV2, same ' +
      'architecture; target netlite ≥1.5)');
    console.log(lines.join('\n'));
  }

  // Binaries, machine.
  const nlSize = sizes.netlite;
  const ortSize = sizes.ort;
  let sizeLine = 'binaries: ';
  if (nlSize) {
    sizeLine += `netlite.node ${fmtMB(nlSize.bytes)} MB, stripped ${fmtMB(nlSize.strippedBytes)} MB ` +
      `${Number.isFinite(nlSize.strippedBytes) ? (nlSize.strippedBytes <= 2 * MB ? '✓' : '✗') : ''} (≤2 MB)`;
    if (Number.isFinite(nlSize.strippedBytes)) tally[nlSize.strippedBytes <= 2 * MB ? 'pass' : 'miss']++;
  } else sizeLine += 'netlite.node not built';
  if (ortSize) {
    sizeLine += ` | onnxruntime ${fmtMB(ortSize.bytes)} MB (${ortSize.files.map((f) => `${path.basename(f.file)} ${fmtMB(f.bytes)}`).join(' + ')}), ` +
      `stripped ${fmtMB(ortSize.strippedBytes)} MB`;
  }
  if (nlSize && ortSize) {
    sizeLine += ` | ratio ${fmtX(ratio(nlSize.bytes, ortSize.bytes))} (stripped ${fmtX(ratio(nlSize.strippedBytes, ortSize.strippedBytes))})`;
  }
  console.log(`\n${sizeLine}`);
  if (nlSize && nlSize.sharedLibs.length) {
    console.log(`          netlite.node also loads (not counted above): ${nlSize.sharedLibs.map((l) => `${l.name}${l.bytes ? ` ${fmtMB(l.bytes)} MB` : ''}`).join(', ')}`);
  }
  console.log(`machine:  ${machine.cpu}, ${machine.cores} cores [${machine.flags.join(' ')}], ${machine.memGiB} GiB, ${machine.platform}, ` +
    `node ${machine.node}, onnxruntime-node ${machine.ortVersion}, OPENBLAS_CORETYPE=${machine.env.OPENBLAS_CORETYPE || '(unset)'}`);
  console.log(`netlite:  ${netlite ? netlite.buildInfo : '(not run)'}`);
  const loadEnd = os.loadavg()[0];
  console.log(`date:     ${started.toISOString()}; ${opts.rounds} round(s) x ${opts.seconds} s; load average ${loadStart.toFixed(2)} at start, ` +
    `${loadEnd.toFixed(2)} at end on ${machine.cores} cores${Math.max(loadStart, loadEnd) > machine.cores * 0.75 ? ' (BUSY: figures are noisy)' : ''}; ` +
    'shared machine: expect ±10% between runs');
  console.log(`targets:  ${tally.pass} ✓, ${tally.miss} ✗`);

  const out = {
    date: started.toISOString(),
    finished: new Date().toISOString(),
    options: opts,
    machine,
    loadAverage: { start: loadStart, end: loadEnd },
    netlite,
    sizes,
    checks,
    summary,
    ratios,
    int8,
    targets: { latency: 1.0, create: 0.5, firstOverMedian: 1.5, peakRss: 0.6, strippedNodeBytes: 2 * MB, netliteOverOpenblas: 1.3, int8Speedup: 1.5, pass: tally.pass, miss: tally.miss },
    failures,
    runs,
  };
  fs.mkdirSync(path.dirname(opts.json), { recursive: true });
  fs.writeFileSync(opts.json, `${JSON.stringify(out, null, 1)}\n`);
  console.log(`json:     ${path.relative(process.cwd(), opts.json)}`);
  if (failures.length) {
    console.log(`\n!! ${failures.length} failure(s):\n${failures.map((f) => `   - ${f}`).join('\n')}`);
    process.exitCode = 1;
  }
}

function describeCmp(c) {
  const bits = [c.what];
  if (Number.isFinite(c.rel)) bits.push(`max|diff| ${c.maxAbs.toExponential(2)}, /max|ref| ${c.rel.toExponential(2)}`);
  if (c.top1Got !== undefined) bits.push(`top-1 ${c.top1Got}${c.top1GotLabel ? ` (${c.top1GotLabel})` : ''}`);
  if (c.sum !== undefined) bits.push(`sum ${c.sum.toFixed(4)}`);
  if (!c.required) bits.push('[info]');
  if (c.why && c.why.length) bits.push(`— ${c.why.join('; ')}`);
  return bits.join(', ');
}

main().catch((e) => {
  console.error(`bench: ${e.stack || e}`);
  process.exit(2);
});
