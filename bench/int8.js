#!/usr/bin/env node
'use strict';
// node bench/int8.js [options]: does the int8 QDQ model run faster on netlite than float does?
//
// Target: an int8 QDQ model on integer kernels >= 1.5x faster than the same model through float.
// Until a dequantized twin of the int8 model exists, the float reference is the torchvision float
// MobileNetV2 in shared/models: the same architecture (MobileNetV2 1.0/224, ~0.6 GFLOP) but a
// different export (torch vs Keras/tf2onnx), so read the ratio as a proxy, not a controlled A/B.
// Same harness as run.js: one process per configuration, the two models alternating, R rounds,
// outputs checked before timing.
//
//   --threads 1,2   --rounds N (3)   --seconds S (2)   --timeout S (120)   --quick
//   --with-ort      also time onnxruntime on both models (its own int8/float ratio, for context)
//   --only ort      onnxruntime alone (before netlite is built)
//   --json FILE     (default bench/results/int8.json)

const fs = require('fs');
const path = require('path');
const common = require('./common');

function parseArgs(argv) {
  const o = { threads: [1, 2], rounds: 3, seconds: 2, warmup: 0.3, timeout: 120, runtimes: ['netlite'],
    json: path.join(__dirname, 'results', 'int8.json'), shared: common.DEFAULT_SHARED };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) throw new Error(`${a} needs a value`); return argv[++i]; };
    switch (a) {
      case '--threads': o.threads = val().split(',').map(Number); break;
      case '--rounds': o.rounds = Number(val()); break;
      case '--seconds': o.seconds = Number(val()); break;
      case '--timeout': o.timeout = Number(val()); break;
      case '--quick': o.rounds = 1; o.seconds = 0.5; o.warmup = 0.1; break;
      case '--with-ort': o.runtimes = ['netlite', 'ort']; break;
      case '--only': o.runtimes = [val()]; break;
      case '--json': o.json = path.resolve(val()); break;
      case '--shared': o.shared = path.resolve(val()); break;
      default: throw new Error(`unknown option ${a}`);
    }
  }
  if (o.threads.some((t) => !(t >= 1)) || !(o.rounds >= 1) || !(o.seconds >= 0) || !(o.timeout > 0)) throw new Error('bad numeric option');
  if (o.runtimes.some((r) => !common.runtimes[r])) throw new Error(`--only takes netlite or ort`);
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const timeoutMs = o.timeout * 1000;
  const models = [common.INT8_KEY, 'mobilenet_v2'];
  const failures = [];
  let buildInfo = null;
  if (o.runtimes.includes('netlite')) {
    const r = await common.spawnWorker({ mode: 'info' }, 60000);
    if (!r.ok) {
      console.error(`int8: netlite does not load: ${r.error}\nBuild it first, or pass --only ort.`);
      process.exit(2);
    }
    buildInfo = r.result.buildInfo;
  }
  console.log(`int8 vs float  ${new Date().toISOString()}  netlite: ${buildInfo || '(not run)'}`);

  // Correctness first: against onnxruntime when it is available, else against torch / sanity.
  const checkRuntimes = fs.existsSync(common.ORT_DIR) ? [...new Set([...o.runtimes, 'ort'])] : o.runtimes;
  const checks = {};
  for (const m of models) {
    const r = await common.spawnWorker({ mode: 'check', model: m, shared: o.shared, runtimes: checkRuntimes, threads: 1 }, timeoutMs);
    checks[m] = r.ok ? r.result : { ok: false, error: r.error };
    const ok = r.ok && r.result.ok;
    console.log(`  ${ok ? 'ok  ' : '!!!! FAIL'} ${m}: ${r.ok ? r.result.comparisons.filter((c) => c.required).map((c) => `${c.what}${c.why && c.why.length ? ` — ${c.why.join('; ')}` : ''}`).join('; ') : r.error}`);
    if (!ok) failures.push(`${m}: output check failed`);
  }
  if (failures.length) {
    console.log('\n!! outputs disagree: not timing (fix correctness first).');
    process.exitCode = 1;
    return;
  }

  const runs = [];
  for (let round = 0; round < o.rounds; round++) {
    for (const t of o.threads) {
      for (const rt of o.runtimes) {
        const order = round % 2 === 0 ? models : models.slice().reverse();
        for (const m of order) {
          const r = await common.spawnWorker({ mode: 'time', model: m, shared: o.shared, runtime: rt, threads: t,
            seconds: o.seconds, warmupSeconds: o.warmup, minIters: 20, maxIters: 100000 }, timeoutMs);
          if (!r.ok) failures.push(`${m} ${rt} t=${t}: ${r.error}`);
          runs.push({ round, model: m, runtime: rt, threads: t, ok: r.ok, error: r.error, ...(r.ok ? r.result : {}) });
          console.log(`  r${round + 1} t=${t} ${rt.padEnd(7)} ${m.padEnd(18)} ${r.ok ? `median ${r.result.medianMs.toFixed(2)} ms (${r.result.iters} runs)` : `FAILED: ${r.error}`}`);
        }
      }
    }
  }

  const summary = {};
  console.log('');
  for (const rt of o.runtimes) {
    for (const t of o.threads) {
      const med = (m) => {
        const rs = runs.filter((r) => r.ok && r.runtime === rt && r.threads === t && r.model === m);
        return rs.length ? common.median(rs.map((r) => r.medianMs)) : NaN;
      };
      const q = med(common.INT8_KEY);
      const f = med('mobilenet_v2');
      const speedup = f / q;
      summary[`${rt}|${t}`] = { int8Ms: q, floatMs: f, speedup };
      const verdict = rt === 'netlite' && Number.isFinite(speedup) ? (speedup >= 1.5 ? ' ✓' : ' ✗') : '';
      console.log(`${rt.padEnd(7)} t=${t}: int8 ${q.toFixed(2)} ms, float mobilenet_v2 ${f.toFixed(2)} ms, ` +
        `float/int8 ${speedup.toFixed(2)}x${verdict}${rt === 'netlite' ? ' (target ≥1.5)' : ' (context)'}`);
    }
  }
  console.log('proxy: the float reference is torchvision\'s MobileNetV2, not a dequantized copy of the int8 model.');
  fs.mkdirSync(path.dirname(o.json), { recursive: true });
  fs.writeFileSync(o.json, `${JSON.stringify({ date: new Date().toISOString(), options: o, buildInfo, machine: common.machineInfo(), checks, summary, failures, runs }, null, 1)}\n`);
  console.log(`json: ${path.relative(process.cwd(), o.json)}`);
  if (failures.length) {
    console.log(`!! ${failures.length} failure(s):\n${failures.map((f) => `   - ${f}`).join('\n')}`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(`int8: ${e.message}`);
  process.exit(2);
});
