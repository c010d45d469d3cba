import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { pluginOwning, registerPluginRoot } from './plugin-guard.js';

describe('pluginOwning: which plugin a crash is blamed on', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'wt-plugfix-guard-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  const root = join(scratch, 'real', 'opsmate-runtime-blamed');
  mkdirSync(join(root, 'node_modules', 'dep'), { recursive: true });
  symlinkSync(join(scratch, 'real'), join(scratch, 'linked'));
  registerPluginRoot(join(scratch, 'linked', 'opsmate-runtime-blamed'), 'opsmate-runtime-blamed');

  const thrownFrom = async (file: string): Promise<unknown> => {
    writeFileSync(file, 'export function boom() { throw new Error("boom"); }\n');
    const module = (await import(pathToFileURL(file).href)) as { boom: () => void };
    try {
      module.boom();
    } catch (error) {
      return error;
    }
    assert.fail('did not throw');
  };

  it('names the plugin whose file is on the stack, through symlinks, its own dependencies included', async () => {
    assert.equal(pluginOwning(await thrownFrom(join(root, 'index.mjs'))), 'opsmate-runtime-blamed');
    assert.equal(
      pluginOwning(await thrownFrom(join(root, 'node_modules', 'dep', 'index.mjs'))),
      'opsmate-runtime-blamed',
    );
  });

  it('names nobody for code outside every plugin, or a value that is not an error', async () => {
    assert.equal(pluginOwning(await thrownFrom(join(scratch, 'elsewhere.mjs'))), undefined);
    assert.equal(pluginOwning('a string'), undefined);
    assert.equal(pluginOwning(undefined), undefined);
  });
});
