#!/usr/bin/env node
// Prints 1 when netlite should be built with OpenBLAS, else 0. Used by binding.gyp
// at configure time (<!(node tools/detect-openblas.js)); CMakeLists.txt mirrors it
// with its NETLITE_OPENBLAS option.
//
//   NETLITE_OPENBLAS=0  never use OpenBLAS
//   NETLITE_OPENBLAS=1  always (the build fails if pkg-config cannot find it)
//   unset / "auto"      use it when `pkg-config --exists openblas` succeeds
//
// With --cflags / --libs it prints the pkg-config flags instead (nothing when off),
// so binding.gyp needs no shell pipeline.
'use strict';

const { spawnSync } = require('child_process');

function pkgConfig(args) {
  const r = spawnSync('pkg-config', args, { encoding: 'utf8' });
  return { ok: !r.error && r.status === 0, out: (r.stdout || '').trim(), err: (r.stderr || '').trim() };
}

function enabled() {
  const env = String(process.env.NETLITE_OPENBLAS || 'auto').trim().toLowerCase();
  if (['0', 'off', 'false', 'no'].includes(env)) return false;
  const found = pkgConfig(['--exists', 'openblas']).ok;
  if (['1', 'on', 'true', 'yes'].includes(env) && !found) {
    process.stderr.write('netlite: NETLITE_OPENBLAS=1 but `pkg-config --exists openblas` fails; ' +
      'install libopenblas-dev and pkg-config, or set NETLITE_OPENBLAS=0\n');
    process.exit(1);
  }
  return found;
}

const mode = process.argv[2];
const on = enabled();
if (mode === '--cflags' || mode === '--include-dirs') {
  if (on) {
    const r = pkgConfig(['--cflags-only-I', 'openblas']);
    const dirs = r.out.split(/\s+/).filter(Boolean).map((f) => f.replace(/^-I/, ''));
    process.stdout.write(dirs.join(' ') + '\n');
  } else process.stdout.write('\n');
} else if (mode === '--libs') {
  process.stdout.write(on ? pkgConfig(['--libs', 'openblas']).out + '\n' : '\n');
} else {
  process.stdout.write(on ? '1\n' : '0\n');
}
