import { PLUGIN_KINDS } from './plugin-manifest.js';
import type { InstalledPlugin } from './plugin-loader.js';

/** What a plugin provides, for people: `runtime gce`, `runtimes gce, gke`. */
export function describeProvides(plugin: InstalledPlugin): string {
  const parts: string[] = [];
  for (const kind of Object.keys(PLUGIN_KINDS) as Array<keyof typeof PLUGIN_KINDS>) {
    const names = plugin.provides.filter((extension) => extension.kind === kind).map(({ name }) => name);
    if (names.length === 0) continue;
    parts.push(`${names.length === 1 ? PLUGIN_KINDS[kind].singular : kind} ${names.join(', ')}`);
  }
  parts.push(...plugin.unsupported.map((kind) => `${kind}`));
  return parts.join('; ') || 'nothing';
}

/** Where a plugin was installed from, for people: `editable, linked to /src/x`, `registry ^1.2.0`. */
export function describeSource(plugin: InstalledPlugin): string {
  switch (plugin.source.kind) {
    case 'editable':
      return `editable, linked to ${plugin.source.path}`;
    case 'tarball':
      return 'from a tarball or folder';
    case 'registry':
      return `npm registry, ${plugin.spec}`;
    default:
      return plugin.spec;
  }
}
