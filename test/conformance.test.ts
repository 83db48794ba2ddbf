// The ONNX project's own operator test cases (../shared/conformance), run through
// the shared harness with netlite's adapter (test/conformance/adapter.mjs).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..');
const harness = path.resolve(root, '../shared/conformance/run-onnx-node.mjs');

describe('ONNX conformance suite', () => {
  it('passes every case strictly (no skips)', () => {
    expect(fs.existsSync(harness)).toBe(true);
    const r = spawnSync(process.execPath, [harness, '--adapter', path.join(root, 'test/conformance/adapter.mjs'), '--strict'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 240_000,
    });
    const lines = `${r.stdout}`.trim().split('\n');
    const failures = lines.filter((l) => l.startsWith('FAIL'));
    const summary = lines[lines.length - 1];
    expect(failures).toEqual([]);
    expect(summary).toMatch(/^\d+ passed, 0 failed$/);
    // The shared suite holds 200 cases; all of them must have run.
    expect(Number(summary.split(' ')[0])).toBe(fs.readdirSync(path.dirname(harness) + '/onnx-node').length);
    expect(r.status).toBe(0);
  }, 300_000);
});
