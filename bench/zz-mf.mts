import { modelFetch } from '../src/agent/providers/model-fetch.js';
import { FakeLlmServer } from '../test-support/fake-llm/index.js';
const fake = await FakeLlmServer.start();
const mf = modelFetch({ timeoutMs: 60000 });
const body = JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'go' }] });
async function loop(f: typeof fetch, n: number) {
  fake.reset(); for (let i = 0; i < n; i++) fake.enqueue({ toolCalls: [{ name: 'ShellCommand', args: { command: 'true' } }] });
  const t = performance.now();
  for (let i = 0; i < n; i++) { const r = await f(`${fake.openAiBaseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }); await r.text(); }
  return (performance.now() - t) / n;
}
await loop(fetch, 50); await loop(mf, 50);
for (let i = 0; i < 5; i++) console.log(`raw ${(await loop(fetch, 200)).toFixed(3)}  modelFetch ${(await loop(mf, 200)).toFixed(3)}`);
await fake.close();
