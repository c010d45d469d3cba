import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { OutputCollector } from './output-collector.js';

describe('OutputCollector', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opsmate-collector-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps small output whole and spills nothing', () => {
    const spillFile = join(dir, 'small');
    const collector = new OutputCollector({ limitBytes: 100, spillFile });
    collector.write(Buffer.from('hello '));
    collector.write(Buffer.from('world'));
    assert.deepEqual(collector.finish(), { text: 'hello world', bytes: 11, truncated: false });
    assert.equal(existsSync(spillFile), false);
  });

  it('keeps head and tail of big output and spills all of it', () => {
    const spillFile = join(dir, 'big');
    const collector = new OutputCollector({ limitBytes: 10, spillFile });
    const whole = Array.from({ length: 100 }, (_, index) => String(index % 10)).join('');
    for (let offset = 0; offset < whole.length; offset += 7)
      collector.write(Buffer.from(whole.slice(offset, offset + 7)));
    const result = collector.finish();
    assert.equal(result.bytes, 100);
    assert.equal(result.truncated, true);
    assert.equal(result.spillFile, spillFile);
    assert.ok(
      result.text.startsWith('01234\n[... 90 bytes omitted (100 in all); full output in '),
      result.text,
    );
    assert.ok(result.text.endsWith('...]\n56789'), result.text);
    assert.equal(readFileSync(spillFile, 'utf8'), whole);
  });

  it('keeps exactly the last bytes as the tail, whatever the chunk sizes (wrapping, chunks over the tail)', () => {
    let seed = 7;
    const random = (below: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % below;
    };
    for (let round = 0; round < 200; round++) {
      const limitBytes = 2 + random(40);
      const whole = Buffer.from(Array.from({ length: 1 + random(400) }, () => 97 + random(26)));
      const collector = new OutputCollector({ limitBytes, spillFile: join(dir, `round-${round}`) });
      for (let offset = 0; offset < whole.length;) {
        const size = random(4) === 0 ? limitBytes + random(60) : 1 + random(limitBytes);
        collector.write(whole.subarray(offset, offset + size));
        offset += size;
      }
      const result = collector.finish();
      const text = whole.toString('latin1');
      if (whole.length <= limitBytes) {
        assert.equal(result.text, text);
        continue;
      }
      const head = Math.floor(limitBytes / 2);
      const tail = limitBytes - head;
      assert.ok(
        result.text.startsWith(`${text.slice(0, head)}\n[... ${whole.length - limitBytes} bytes omitted`),
        result.text,
      );
      assert.ok(result.text.endsWith(`...]\n${text.slice(text.length - tail)}`), `${round}: ${result.text}`);
    }
  });

  it('says so when the spill file cannot be written', () => {
    const notAFolder = join(dir, 'plain-file');
    writeFileSync(notAFolder, '');
    const collector = new OutputCollector({ limitBytes: 4, spillFile: join(notAFolder, 'spill') });
    collector.write(Buffer.from('0123456789'));
    const result = collector.finish();
    assert.equal(result.truncated, true);
    assert.equal(result.spillFile, undefined);
    assert.match(result.text, /could not be saved/);
  });
});
