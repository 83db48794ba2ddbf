// docs/ops.md is generated from the op registry; this keeps it true.
import { spawnSync } from 'child_process';
import * as path from 'path';

describe('docs/ops.md', () => {
  it('matches the op registry of the built engine', () => {
    const r = spawnSync(process.execPath, [path.resolve(__dirname, '../tools/gen-ops-doc.js'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
