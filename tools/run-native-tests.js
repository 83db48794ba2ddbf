#!/usr/bin/env node
// Builds the modular tree and test/native/*.cc with CMake, then runs the native test
// binary (`npm run test:native`; `npm test` runs it before jest). Exit code: the binary's.
//
//   NETLITE_OPENBLAS=0|1   mirrors the addon build (default: auto); each setting has its
//                          own build directory, so switching does not rebuild the other
//   NETLITE_SANITIZE=address,undefined   sanitizer build (own build directory too)
//   NETLITE_NATIVE_BUILD_TYPE=Debug      default Release
//   NETLITE_NATIVE_BUILD_ONLY=1          build the test binary, do not run it
//   NETLITE_NATIVE_TREE=amalgamation     link the tests against the single file instead of
//                          the modular tree (one big translation unit: much less CPU
//                          for a from-scratch build, no incremental builds)
// Extra arguments go to the test binary (a name filter).
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const env = String(process.env.NETLITE_OPENBLAS || 'auto').toLowerCase();
const blas = ['0', 'off', 'false', 'no'].includes(env) ? 'OFF' : ['1', 'on', 'true', 'yes'].includes(env) ? 'ON' : 'AUTO';
const sanitize = process.env.NETLITE_SANITIZE || '';
const buildType = process.env.NETLITE_NATIVE_BUILD_TYPE || 'Release';
const tree = process.env.NETLITE_NATIVE_TREE === 'amalgamation' ? 'amalgamation' : 'modular';
// A libFuzzer-instrumented build (CI: clang, fuzzer-no-link) gets its own directory too.
const suffix = [blas === 'OFF' ? 'noblas' : '', sanitize ? (sanitize.includes('fuzzer') ? 'sanfuzz' : 'san') : '',
  tree === 'amalgamation' ? 'single' : '',
  buildType === 'Release' ? '' : buildType.toLowerCase()]
  .filter(Boolean)
  .join('-');
const buildDir = path.join(root, suffix ? `build-native-${suffix}` : 'build-native');
const jobs = String(Math.max(1, (os.availableParallelism ? os.availableParallelism() : os.cpus().length)));

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.error) {
    process.stderr.write(`run-native-tests: cannot run ${cmd}: ${r.error.message}\n`);
    process.exit(1);
  }
  return r.status === null ? 1 : r.status;
}

// Same selection as CMakeLists.txt: test/native/*.cc except bench_*.cc.
const testDir = path.join(root, 'test', 'native');
const sources = fs.existsSync(testDir)
  ? fs.readdirSync(testDir).filter((f) => f.endsWith('.cc') && !f.startsWith('bench_'))
  : [];
if (sources.length === 0) {
  process.stdout.write('run-native-tests: no test/native/*.cc; nothing to run\n');
  process.exit(0);
}

const started = Date.now();
const configure = [
  '-S', root, '-B', buildDir,
  `-DCMAKE_BUILD_TYPE=${buildType}`,
  `-DNETLITE_OPENBLAS=${blas}`,
  `-DNETLITE_SANITIZE=${sanitize}`,
  `-DNETLITE_TESTS_LINK=${tree}`,
];
// Quiet configure unless it fails; the build prints one line per file.
const rc = spawnSync('cmake', configure, { cwd: root, encoding: 'utf8' });
if (rc.error || rc.status !== 0) {
  process.stdout.write(rc.stdout || '');
  process.stderr.write(rc.stderr || (rc.error ? rc.error.message : ''));
  process.stderr.write('\nrun-native-tests: cmake configure failed (needs cmake >= 3.16 and a C++17 compiler)\n');
  process.exit(1);
}
process.stdout.write(`run-native-tests: building in ${path.relative(root, buildDir)} (OpenBLAS ${blas}, ${buildType}, ${tree}${sanitize ? `, sanitize=${sanitize}` : ''})\n`);
if (run('cmake', ['--build', buildDir, '--target', 'netlite_native_tests', '-j', jobs]) !== 0) {
  process.stderr.write('run-native-tests: build failed\n');
  process.exit(1);
}
const exe = path.join(buildDir, process.platform === 'win32' ? 'netlite_native_tests.exe' : 'netlite_native_tests');
const built = ((Date.now() - started) / 1000).toFixed(1);
if (process.env.NETLITE_NATIVE_BUILD_ONLY) {
  process.stdout.write(`run-native-tests: built ${path.relative(root, exe)} in ${built} s (NETLITE_NATIVE_BUILD_ONLY: not run)\n`);
  process.exit(0);
}
process.stdout.write(`run-native-tests: built in ${built} s; running ${path.relative(root, exe)}\n`);
const status = run(exe, process.argv.slice(2), {
  env: { ...process.env, ASAN_OPTIONS: process.env.ASAN_OPTIONS || 'detect_leaks=1', UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || 'print_stacktrace=1:halt_on_error=1' },
});
process.stdout.write(`run-native-tests: ${status === 0 ? 'passed' : `FAILED (exit ${status})`} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
process.exit(status);
