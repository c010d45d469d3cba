import { co } from '../../process/child-process.js';
import type { RuntimeDiscovery } from '../../runtime/contract.js';
import { classifyDockerFailure } from './docker-cli.js';

/** A label key as docker accepts it in a filter (`com.example.app`, `tier`). */
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9_./-]*$/;

/**
 * `app=web,tier` as `docker ps` filters: every term is a label the container must have (`key`)
 * or have with that value (`key=value`). Docker's filters cannot negate, so `!=` and `!key` are
 * refused rather than ignored.
 */
export function dockerLabelFilters(selector: string): string[] {
  const terms = selector
    .split(',')
    .map((term) => term.trim())
    .filter((term) => term !== '');
  if (terms.length === 0) throw new Error('the selector names no label');
  return terms.map((term) => {
    const equals = term.indexOf('=');
    const key = equals < 0 ? term : term.slice(0, equals);
    if (term.includes('!=') || term.startsWith('!'))
      throw new Error(`${JSON.stringify(term)}: docker label filters cannot negate (no != or !key)`);
    if (!LABEL_KEY.test(key)) throw new Error(`${JSON.stringify(key)} is not a label key`);
    return `label=${term}`;
  });
}

/** Running containers whose labels match, by name: `targets: { web: { runtime: docker, selector: app=web } }`. */
export const dockerDiscovery: RuntimeDiscovery = {
  usage: 'container labels, comma-separated, each key or key=value; the running containers with all of them',
  find: async ({ selector, signal }) => {
    const filters = dockerLabelFilters(selector).flatMap((filter) => ['--filter', filter]);
    const result = await co(['docker', 'ps', ...filters, '--format', '{{.Names}}'], { signal });
    if (result.spawnError || result.exitCode !== 0) {
      const failure = classifyDockerFailure(result);
      const detail =
        failure === 'binary-missing'
          ? 'docker is not installed (not found on PATH)'
          : failure === 'daemon-unreachable'
            ? 'cannot reach the Docker daemon'
            : result.stderr.trim().split('\n').at(-1) ||
              `docker ps ended with ${result.exitCode ?? result.signal}`;
      throw new Error(detail);
    }
    const names = result.stdout
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '')
      .sort();
    return names.map((name) => ({ name, fields: { containerName: name } }));
  },
};
