// OpenBLAS is loaded at its first use, not with the addon (native/src/kernels/gemm.cc): a process
// whose GEMMs run on netlite's SIMD kernels never maps it (~2.7 MB of resident memory), and asking
// for it (buildInfo, gemm: 'openblas') still finds it and starts none of its threads.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { buildInfo } from '../lib';

const root = path.resolve(__dirname, '..');
const model = path.join(root, '..', 'shared', 'models', 'squeezenet1_1.onnx');
const linuxWithModel = process.platform === 'linux' && fs.existsSync(model);

(linuxWithModel ? test : test.skip)('the default backend runs without mapping OpenBLAS; buildInfo loads it', () => {
  const script = `
    const nl = require(${JSON.stringify(path.join(root, 'dist', 'cjs', 'index.js'))});
    const fs = require('fs');
    const mapped = () => fs.readFileSync('/proc/self/maps', 'utf8').includes('libopenblas');
    const threads = () => +/Threads:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1];
    (async () => {
      const p = await nl.Predictor.load(${JSON.stringify(model)}, { threads: 1 });
      const x = new Float32Array(3 * 224 * 224);
      await p.predict({ [p.inputs[0].name]: new nl.Tensor('float32', x, [1, 3, 224, 224]) });
      const before = { mapped: mapped(), threads: threads() };
      const info = nl.buildInfo();
      const after = { mapped: mapped(), threads: threads() };
      const q = await nl.Predictor.load(${JSON.stringify(model)}, { threads: 1, gemm: info.openblas ? 'openblas' : 'netlite' });
      const y = await q.predict({ [q.inputs[0].name]: new nl.Tensor('float32', x, [1, 3, 224, 224]) });
      console.log(JSON.stringify({ before, after, openblas: info.openblas, env: process.env.OPENBLAS_NUM_THREADS ?? null,
        outputs: Object.values(y)[0].dims }));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const clean = { ...process.env };
  for (const v of ['OPENBLAS_NUM_THREADS', 'GOTO_NUM_THREADS', 'OMP_NUM_THREADS']) delete clean[v];
  const r = spawnSync(process.execPath, ['-e', script], { env: clean, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const got = JSON.parse(r.stdout) as {
    before: { mapped: boolean; threads: number };
    after: { mapped: boolean; threads: number };
    openblas: boolean;
    env: string | null;
    outputs: number[];
  };
  expect(got.before.mapped).toBe(false); // the SIMD kernels (or the portable one) ran: no OpenBLAS
  expect(got.openblas).toBe(buildInfo().openblas);
  expect(got.after.mapped).toBe(got.openblas); // compiled in: buildInfo found and loaded it
  expect(got.after.threads).toBe(got.before.threads); // and it started no threads of its own
  expect(got.env).toBeNull(); // the environment is as it was
  expect(got.outputs).toEqual([1, 1000]);
});
