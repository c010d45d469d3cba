import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let loaded: typeof Yaml | undefined;

/**
 * The `yaml` package, loaded on its first use (synchronously, from its CommonJS build): most
 * commands read no YAML file, and parsing the package's ~260 KB of code cost every cold start of
 * `exec` a few milliseconds (docs/benchmarks.md, "Cold start").
 */
export function yamlModule(): typeof Yaml {
  return (loaded ??= createRequire(import.meta.url)('yaml') as typeof Yaml);
}
