#!/usr/bin/env node
// The `netlite` command. A thin launcher: the CLI lives in lib/cli (compiled to dist/cjs/cli).
'use strict';

let cli;
try {
  cli = require('../dist/cjs/cli/main.js');
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && /dist[\\/]cjs[\\/]cli[\\/]main/.test(String(e.message))) {
    process.stderr.write('netlite: the CLI is not built (dist/ is missing): run `npm run build:ts` in the netlite package\n');
    process.exit(1);
  }
  throw e;
}
cli.runFromProcess();
