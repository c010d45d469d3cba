import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pruneSpillFiles } from './spill-files.js';

describe('pruneSpillFiles', () => {
  it('removes old spill files and keeps recent ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsmate-prune-'));
    try {
      writeFileSync(join(dir, 'old.stdout'), 'x');
      writeFileSync(join(dir, 'new.stdout'), 'y');
      const tenDaysAgo = new Date(Date.now() - 10 * 24 * 3600 * 1000);
      utimesSync(join(dir, 'old.stdout'), tenDaysAgo, tenDaysAgo);
      assert.equal(pruneSpillFiles(dir), 1);
      assert.equal(existsSync(join(dir, 'old.stdout')), false);
      assert.equal(existsSync(join(dir, 'new.stdout')), true);
      assert.equal(pruneSpillFiles(join(dir, 'missing')), 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
