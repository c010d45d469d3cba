import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread running the ES module at `url`: one of ours, `dist/...js` when opsmate runs, or
 * the TypeScript source when the tests run it through tsx. Node starts a worker without the
 * parent's `--import` hooks, so a `.ts` module is started by a bootstrap that registers tsx
 * first (tsx is a dev dependency; an installed opsmate only ever starts `.js`).
 */
export function startModuleWorker(url: URL, options: WorkerOptions = {}): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/** `name` next to the module at `moduleUrl`, with the module's own extension (`.ts` or `.js`). */
export function siblingModule(moduleUrl: string, name: string): URL {
  return new URL(`./${name}${moduleUrl.endsWith('.ts') ? '.ts' : '.js'}`, moduleUrl);
}
