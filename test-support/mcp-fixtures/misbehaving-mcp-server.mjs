#!/usr/bin/env node
// A stdio MCP server that misbehaves on purpose, written against the wire protocol (newline-
// delimited JSON-RPC) so that it can break it. `node misbehaving-mcp-server.mjs MODE`:
//   exit-at-start   writes a line to stderr and exits 3 before answering anything
//   silent          reads and never answers (a hung server)
//   hang-on-call    answers initialize and tools/list; a tools/call is never answered
//   crash-on-call   answers initialize and tools/list; a tools/call makes it exit 1
//   malformed       answers tools/call with a result that is not a CallToolResult
import { createInterface } from 'node:readline';

const mode = process.argv[2] ?? 'silent';
if (mode === 'exit-at-start') {
  process.stderr.write('misbehaving: cannot open /nonexistent/config.json\n');
  process.exit(3);
}
const send = (message) => process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
const tool = {
  name: 'work',
  description: 'Does some work.',
  inputSchema: { type: 'object', properties: {} },
};
createInterface({ input: process.stdin }).on('line', (line) => {
  if (mode === 'silent') return;
  const request = JSON.parse(line);
  if (request.id === undefined) return;
  if (request.method === 'initialize') {
    send({
      id: request.id,
      result: {
        protocolVersion: request.params.protocolVersion,
        capabilities: { tools: {} },
        serverInfo: { name: 'misbehaving', version: '1.0.0' },
      },
    });
  } else if (request.method === 'tools/list') {
    send({ id: request.id, result: { tools: [tool] } });
  } else if (request.method === 'tools/call') {
    if (mode === 'hang-on-call') return;
    if (mode === 'crash-on-call') {
      process.stderr.write('misbehaving: segmentation fault (pretend)\n');
      process.exit(1);
    }
    send({ id: request.id, result: { content: 'not a list of parts' } });
  } else {
    send({ id: request.id, error: { code: -32601, message: `no method ${request.method}` } });
  }
});
