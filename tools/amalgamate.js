#!/usr/bin/env node
// Builds the single-file netlite (the "amalgamation"), SQLite style: the .cc files
// of native/src, in the order of native/src/MANIFEST, with every project header
// inlined the first time it is included. The output is a build product: never
// edit native/amalgamation/* by hand, change the modular tree and rerun this.
//
//   node tools/amalgamate.js             write native/amalgamation/netlite.{cc,h}
//   node tools/amalgamate.js --out DIR   write DIR/netlite.{cc,h}
//   node tools/amalgamate.js --check     exit 1 if the output is missing or stale
//   node tools/amalgamate.js --list      print every input file (for gyp/cmake deps)
//   node tools/amalgamate.js --sources   print the manifest's .cc files
// Other options: --root DIR (tree to read; default: this repo), --no-line
// (omit #line directives).
//
// The manifest is the single truth for what goes into the build: the script fails
// when a .cc under native/src is not listed (or is listed twice), so a new file
// cannot be silently left out of the amalgamation.
'use strict';

const fs = require('fs');
const path = require('path');

function usage(msg) {
  if (msg) process.stderr.write(`amalgamate: ${msg}\n`);
  process.stderr.write(
    'usage: node tools/amalgamate.js [--out DIR] [--check] [--list] [--sources] [--root DIR] [--no-line]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { out: null, check: false, list: false, sources: false, root: null, lines: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out' || a === '--root') {
      if (i + 1 >= argv.length) usage(`${a} needs a directory`);
      opts[a.slice(2)] = path.resolve(argv[++i]);
    } else if (a === '--check') opts.check = true;
    else if (a === '--list') opts.list = true;
    else if (a === '--sources') opts.sources = true;
    else if (a === '--no-line') opts.lines = false;
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument '${a}'`);
  }
  return opts;
}

class AmalgamationError extends Error {}

// POSIX-style path relative to the tree root: what #line and the markers show.
function rel(root, file) {
  return path.relative(root, file).split(path.sep).join('/');
}

function walk(dir, out) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) out.push(p);
  }
  return out;
}

// Reads native/src/MANIFEST and checks it against the .cc files on disk.
function readManifest(root) {
  const srcDir = path.join(root, 'native', 'src');
  const manifestPath = path.join(srcDir, 'MANIFEST');
  let text;
  try {
    text = fs.readFileSync(manifestPath, 'utf8');
  } catch (e) {
    throw new AmalgamationError(`cannot read ${rel(root, manifestPath)}: ${e.message}`);
  }
  const files = [];
  const seen = new Map();
  const problems = [];
  const globs = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `MANIFEST:${i + 1}`;
    if (/^[\w/]+\/\*\.cc$/.test(line)) {
      // `dir/*.cc`: every .cc directly in dir not listed elsewhere, sorted - for
      // families of independent files (one op per file) whose order is free.
      globs.push({ dir: line.slice(0, -'/*.cc'.length), at: files.length, where });
      return;
    }
    if (!line.endsWith('.cc')) {
      problems.push(`${where}: '${line}' is not a .cc file (headers are inlined where they are included)`);
      return;
    }
    const abs = path.resolve(srcDir, line);
    const key = rel(srcDir, abs);
    if (key.startsWith('..')) {
      problems.push(`${where}: '${line}' is outside native/src`);
      return;
    }
    if (seen.has(key)) {
      problems.push(`${where}: '${line}' is listed twice (first at MANIFEST:${seen.get(key)})`);
      return;
    }
    seen.set(key, i + 1);
    if (!fs.existsSync(abs)) {
      problems.push(`${where}: '${line}' does not exist`);
      return;
    }
    files.push(abs);
  });
  // Expand globs last so explicit lines anywhere win; insert in manifest order.
  for (let g = globs.length - 1; g >= 0; g--) {
    const { dir, at, where } = globs[g];
    const abs = path.join(srcDir, dir);
    if (!fs.existsSync(abs)) {
      problems.push(`${where}: '${dir}' does not exist`);
      continue;
    }
    const matched = fs.readdirSync(abs).filter((f) => f.endsWith('.cc')).sort()
      .map((f) => rel(srcDir, path.join(abs, f))).filter((k) => !seen.has(k));
    for (const k of matched) seen.set(k, where);
    files.splice(at, 0, ...matched.map((k) => path.join(srcDir, k)));
  }
  const onDisk = walk(srcDir, []).filter((f) => f.endsWith('.cc')).map((f) => rel(srcDir, f)).sort();
  const missing = onDisk.filter((f) => !seen.has(f));
  if (missing.length) {
    problems.push(
      `these .cc files are not in native/src/MANIFEST (add each on its own line, in dependency order):\n` +
        missing.map((f) => `    ${f}`).join('\n'));
  }
  if (problems.length) throw new AmalgamationError(problems.join('\n'));
  return { manifestPath, files };
}

// True when a header protects itself from a second inclusion (#pragma once or a
// classic #ifndef X / #define X guard): only such headers are inlined once.
const onceCache = new Map();
function includedOnce(file) {
  if (onceCache.has(file)) return onceCache.get(file);
  const text = fs.readFileSync(file, 'utf8');
  const noComments = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const directives = noComments.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.startsWith('#'));
  let once = directives.some((l) => /^#\s*pragma\s+once\b/.test(l));
  if (!once && directives.length >= 2) {
    const a = /^#\s*ifndef\s+(\w+)/.exec(directives[0]);
    const b = /^#\s*define\s+(\w+)/.exec(directives[1]);
    once = Boolean(a && b && a[1] === b[1]);
  }
  onceCache.set(file, once);
  return once;
}

const INCLUDE_QUOTED = /^\s*#\s*include\s*"([^"]+)"/;
const PRAGMA_ONCE = /^\s*#\s*pragma\s+once\b/;
const IF_OPEN = /^\s*#\s*if(n?def)?\b/;
const IF_CLOSE = /^\s*#\s*endif\b/;

// Expands one file. `state.seen` maps a header's absolute path to the place it was
// first inlined; later includes of it are dropped.
function expand(root, file, state, depth, out) {
  const includeDirs = [path.join(root, 'native', 'src'), path.join(root, 'native', 'include')];
  const name = rel(root, file);
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new AmalgamationError(`cannot read ${name}: ${e.message}`);
  }
  state.inputs.add(file);
  if (state.stack.includes(file)) {
    throw new AmalgamationError(`include cycle: ${[...state.stack, file].map((f) => rel(root, f)).join(' -> ')}`);
  }
  state.stack.push(file);
  const lines = text.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const lineDirective = (n) => { if (state.lines) out.push(`#line ${n} "${name}"`); };
  out.push(`/************** Begin file ${name} ${'*'.repeat(Math.max(4, 60 - name.length))}/`);
  lineDirective(1);
  let ifDepth = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (IF_OPEN.test(line)) ifDepth++;
    else if (IF_CLOSE.test(line)) ifDepth = Math.max(0, ifDepth - 1);
    if (PRAGMA_ONCE.test(line)) {
      out.push(`/* ${line.trim()} */`);
      continue;
    }
    const m = INCLUDE_QUOTED.exec(line);
    if (!m) {
      out.push(line);
      continue;
    }
    const candidates = [path.resolve(path.dirname(file), m[1]), ...includeDirs.map((d) => path.resolve(d, m[1]))];
    const target = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
    if (!target) {
      // Not a project header: keep it for the compiler (and say so, since a quoted
      // include that is not ours usually is a typo).
      state.warnings.push(`${name}:${i + 1}: "${m[1]}" is not a project header; kept as an #include`);
      out.push(line);
      continue;
    }
    const real = fs.realpathSync(target);
    const conditional = depth + ifDepth > 0;
    if (!includedOnce(real)) {
      // No #pragma once and no include guard: a header meant to be included
      // several times (an X-macro list such as ops/op_list.h), so inline it each time.
      out.push(`/* ${line.trim()} -- multiple-inclusion header */`);
      expand(root, real, state, depth + ifDepth, out);
      lineDirective(i + 2);
      continue;
    }
    if (state.seen.has(real)) {
      const first = state.seen.get(real);
      if (first.conditional && !conditional) {
        state.warnings.push(
          `${name}:${i + 1}: ${rel(root, real)} was first inlined inside #if at ${first.where}; ` +
            'it is missing from the amalgamation when that condition is false');
      }
      out.push(`/* ${line.trim()} -- already inlined above */`);
      continue;
    }
    state.seen.set(real, { where: `${name}:${i + 1}`, conditional });
    out.push(`/* ${line.trim()} */`);
    expand(root, real, state, depth + ifDepth, out);
    lineDirective(i + 2);
  }
  out.push(`/************** End file ${name} ${'*'.repeat(Math.max(4, 62 - name.length))}/`);
  state.stack.pop();
}

function readVersion(headerText) {
  const v = (k) => {
    const m = new RegExp(`#define\\s+NETLITE_VERSION_${k}\\s+(\\d+)`).exec(headerText);
    return m ? m[1] : '?';
  };
  return `${v('MAJOR')}.${v('MINOR')}.${v('PATCH')}`;
}

// Returns { cc, h, inputs, sources, warnings } without touching the output directory.
function amalgamate(root, opts = {}) {
  const { manifestPath, files } = readManifest(root);
  const publicHeader = path.join(root, 'native', 'include', 'netlite.h');
  let headerText;
  try {
    headerText = fs.readFileSync(publicHeader, 'utf8');
  } catch (e) {
    throw new AmalgamationError(`cannot read native/include/netlite.h: ${e.message}`);
  }
  const state = {
    seen: new Map(),
    inputs: new Set([manifestPath, __filename]),
    stack: [],
    warnings: [],
    lines: opts.lines !== false,
  };
  const out = [];
  out.push(
    '/*',
    ` * netlite ${readVersion(headerText)} - deep-learning inference in one C++ file.`,
    ' *',
    ' * GENERATED by tools/amalgamate.js from native/src (see native/src/MANIFEST).',
    ' * Do not edit: change the modular sources and regenerate.',
    ' *',
    ' * Build:   c++ -std=c++17 -O2 -c netlite.cc            (add -pthread when linking)',
    ' * Options: -DNETLITE_USE_OPENBLAS  use cblas_sgemm (link -lopenblas)',
    ' * API:     netlite.h (also inlined below)',
    ' */',
    '#define NETLITE_AMALGAMATION 1');
  const realHeader = fs.realpathSync(publicHeader);
  state.seen.set(realHeader, { where: 'the banner', conditional: false });
  expand(root, realHeader, state, 0, out);
  for (const f of files) expand(root, fs.realpathSync(f), state, 0, out);
  return {
    cc: out.join('\n') + '\n',
    h: headerText,
    inputs: [...state.inputs],
    sources: files,
    warnings: state.warnings,
  };
}

// Writes only when the bytes differ, through a rename, so timestamps stay stable
// for make and a reader never sees half a file.
function writeIfChanged(file, content) {
  try {
    if (fs.readFileSync(file, 'utf8') === content) return false;
  } catch { /* missing: write it */ }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
  return true;
}

function isStale(file, content) {
  try {
    return fs.readFileSync(file, 'utf8') !== content;
  } catch {
    return true;
  }
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const root = opts.root || path.resolve(__dirname, '..');
  const outDir = opts.out || path.join(root, 'native', 'amalgamation');
  let result;
  try {
    result = amalgamate(root, { lines: opts.lines });
  } catch (e) {
    if (e instanceof AmalgamationError) {
      process.stderr.write(`amalgamate: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const printRel = (f) => path.relative(process.cwd(), f).split(path.sep).join('/');
  if (opts.list || opts.sources) {
    const list = opts.list ? result.inputs : result.sources;
    process.stdout.write(list.map(printRel).join('\n') + '\n');
    return;
  }
  for (const w of result.warnings) process.stderr.write(`amalgamate: warning: ${w}\n`);
  const ccPath = path.join(outDir, 'netlite.cc');
  const hPath = path.join(outDir, 'netlite.h');
  if (opts.check) {
    const stale = [ccPath, hPath].filter((f, i) => isStale(f, i ? result.h : result.cc));
    if (stale.length) {
      process.stderr.write(`amalgamate: stale: ${stale.map(printRel).join(', ')} (run node tools/amalgamate.js)\n`);
      process.exit(1);
    }
    return;
  }
  const wrote = [writeIfChanged(ccPath, result.cc), writeIfChanged(hPath, result.h)];
  // The MXNet-compatible API is part of the single file too; its header is standalone.
  const mxHeader = path.join(opts.root || path.resolve(__dirname, '..'), 'native', 'include', 'c_predict_api.h');
  if (fs.existsSync(mxHeader)) writeIfChanged(path.join(outDir, 'c_predict_api.h'), fs.readFileSync(mxHeader, 'utf8'));
  if (!process.env.NETLITE_AMALGAMATE_QUIET) {
    const lines = result.cc.split('\n').length - 1;
    process.stderr.write(
      `amalgamate: ${printRel(ccPath)} ${wrote[0] ? 'written' : 'unchanged'} ` +
        `(${result.sources.length} sources, ${lines} lines)\n`);
  }
}

module.exports = { amalgamate, readManifest, AmalgamationError };

if (require.main === module) main();
