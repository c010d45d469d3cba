import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHeaderBlocks } from '../../../runtime/target-http.js';
import { readableBody } from './readable-body.js';

describe('readable bodies', () => {
  it('turns HTML into text: no scripts or styles, tables as columns, links kept', async () => {
    const html =
      '<!doctype html><html><head><style>td{color:red}</style><script>steal()</script></head><body>' +
      '<h1>Targets</h1><table><tr><th>Endpoint</th><th>State</th></tr><tr><td>node:9100</td><td>DOWN</td></tr></table>' +
      '<p>See <a href="/alerts">alerts</a>.</p></body></html>';
    const body = await readableBody(Buffer.from(html), 'text/html; charset=utf-8');
    assert.equal(body.kind, 'html');
    assert.match(body.text, /^Targets\n\nEndpoint\s+State\nnode:9100\s+DOWN\n\nSee alerts \[\/alerts\]\.$/);
    assert.doesNotMatch(body.text, /steal|color/);
  });

  it('pretty-prints JSON, decodes a charset, and names binary bodies', async () => {
    assert.equal(
      (await readableBody(Buffer.from('{"up":true,"n":[1]}'), 'application/json')).text,
      '{\n  "up": true,\n  "n": [\n    1\n  ]\n}',
    );
    assert.equal((await readableBody(Buffer.from('{"a":1}'), undefined)).kind, 'json');
    assert.equal(
      (await readableBody(Buffer.from([0x63, 0x61, 0x66, 0xe9]), 'text/plain; charset=iso-8859-1')).text,
      'café',
    );
    assert.equal(
      (await readableBody(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2]), 'image/png')).kind,
      'binary',
    );
    assert.equal(
      (await readableBody(Buffer.from('# HELP up\nup 1\n'), 'text/plain; version=0.0.4')).text,
      '# HELP up\nup 1\n',
    );
    assert.equal((await readableBody(Buffer.alloc(0), 'text/html')).kind, 'empty');
  });

  it("reads curl's header blocks: redirects and 100 Continue, then the body", () => {
    const raw = Buffer.from(
      'HTTP/1.1 302 Found\r\nLocation: /next\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/2 200 \r\ncontent-type: text/plain\r\n\r\nbody\r\n\r\nHTTP/ stays body',
    );
    const parsed = parseHeaderBlocks(raw);
    assert.equal(parsed.status, 200);
    assert.deepEqual(parsed.redirects, ['/next']);
    assert.equal(parsed.headers['content-type'], 'text/plain');
    assert.equal(parsed.body.toString(), 'body\r\n\r\nHTTP/ stays body');
  });
});
