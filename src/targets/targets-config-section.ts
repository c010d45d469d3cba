import { z } from 'zod';
import { defineConfigSection } from '../config/config-section-definition.js';
import { sectionEntries, sectionError } from '../config/config-section.js';
import type { ConfigSection } from '../config/config-file.js';
import { didYouMean } from '../config/did-you-mean.js';
import { MONITORING_SETTING_NAMES, MONITORING_SETTINGS } from '../monitoring/monitoring-settings.js';

function didYouMeanText(name: string): string {
  const close = didYouMean(name, MONITORING_SETTING_NAMES);
  return close ? ` (did you mean ${close}?)` : '';
}

/** Keys of a `targets:` entry that say what it is; exactly one of them is given. */
export const TARGET_KEYS = ['runtime', 'uri', 'targets', 'inventory'] as const;

/** Keys of a `targets:` entry that are not a runtime's fields. */
const ENTRY_KEYS: readonly string[] = [...TARGET_KEYS, 'selector'];

/**
 * `monitoring:` of a target: the monitoring settings (PROMETHEUS_ENDPOINT...) of that target's
 * tools, by env name, over the environment's (docs/monitoring.md).
 */
const monitoringSchema = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean()]).transform(String),
);

/**
 * One entry of `targets:` as written. Exactly one of `runtime`, `uri`, `targets`, `inventory`;
 * the other keys of a `runtime`/`uri` entry (and of an `inventory` entry, for every host of it)
 * are the runtime's own fields, checked against its schema when the target is used.
 */
export interface TargetEntry {
  name: string;
  /** `selector`: a group the runtime finds when it is used (`runtime: docker, selector: app=web`). */
  kind: 'target' | 'group' | 'inventory' | 'selector';
  /** `runtime:`, or the runtime a `uri:` names (resolved later, against the registry). */
  runtime?: string;
  uri?: string;
  /** What a `selector` group's runtime looks for: labels, a label selector, Host patterns. */
  selector?: string;
  /** A group's members: target names, groups, patterns or URIs. */
  members?: string[];
  /** An inventory file, absolute or relative to the config file's folder. */
  inventory?: string;
  /** The runtime's fields, by key as written (`host`, `keyFile`). */
  fields: Record<string, unknown>;
  /** `monitoring:`: PROMETHEUS_ENDPOINT and the like for this target's tools. */
  monitoring?: Record<string, string>;
  /** Where the entry is written, and the line of each of its keys. */
  path: string;
  line: number;
  lineOf(key: string): number;
}

export type TargetsTable = ReadonlyMap<string, TargetEntry>;

const TARGET_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

const entrySchema = z
  .object({
    runtime: z
      .string()
      .regex(/^[a-z][a-z0-9]*$/, 'must be a runtime name (see opsmate list-runtimes)')
      .optional(),
    uri: z.string().includes('://', { message: 'must be a URI such as ssh://ops@db-1:22' }).optional(),
    targets: z.array(z.string().min(1)).min(1, 'a group needs at least one member').optional(),
    inventory: z.string().min(1).optional(),
    selector: z.string().trim().min(1, 'a selector cannot be empty').optional(),
  })
  .catchall(z.unknown());

function readTargets(section: ConfigSection): TargetsTable {
  const table = new Map<string, TargetEntry>();
  for (const entry of sectionEntries(section, entrySchema)) {
    const { name, value } = entry;
    if (!TARGET_NAME.test(name) || name === 'all')
      throw sectionError(
        section,
        [name],
        name === 'all'
          ? '"all" is every target: it cannot be a name'
          : 'a target name is letters, digits, _, . and - (no :, &, ! or spaces: those make patterns)',
      );
    if (value.selector !== undefined && value.runtime === undefined)
      throw sectionError(
        section,
        [name, 'selector'],
        'a selector group needs runtime: (the runtime that finds its targets: docker, k8s, ssh)',
      );
    const given = TARGET_KEYS.filter((key) => value[key] !== undefined);
    if (given.length !== 1)
      throw sectionError(
        section,
        [name],
        given.length === 0
          ? 'needs one of runtime: (a target), uri: (a target), targets: (a group) or inventory: (an Ansible inventory)'
          : `has both ${given[0]} and ${given[1]}: give one`,
      );
    const fields = Object.fromEntries(
      Object.entries(value).filter(([key]) => !ENTRY_KEYS.includes(key) && key !== 'monitoring'),
    );
    let monitoring: Record<string, string> | undefined;
    if (value.monitoring !== undefined) {
      const parsed = monitoringSchema.safeParse(value.monitoring);
      const unknown = parsed.success
        ? Object.keys(parsed.data).find((key) => !MONITORING_SETTING_NAMES.includes(key))
        : undefined;
      if (unknown !== undefined)
        throw sectionError(
          section,
          [name, 'monitoring', unknown],
          `not a monitoring setting${didYouMeanText(unknown)}: one of PROMETHEUS_*, ALERTMANAGER_*, LOKI_* with ${MONITORING_SETTINGS.map(([suffix]) => suffix).join(', ')}`,
        );
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw sectionError(section, [name, 'monitoring', ...issue.path.map(String)], issue.message);
      }
      if (value.targets !== undefined || value.inventory !== undefined || value.selector !== undefined)
        throw sectionError(
          section,
          [name, 'monitoring'],
          'monitoring: belongs to a target (runtime: or uri:)',
        );
      monitoring = parsed.data;
    }
    if (value.targets !== undefined && Object.keys(fields).length > 0)
      throw sectionError(section, [name, Object.keys(fields)[0]!], 'a group takes only targets:');
    const kind =
      value.targets !== undefined
        ? 'group'
        : value.inventory !== undefined
          ? 'inventory'
          : value.selector !== undefined
            ? 'selector'
            : 'target';
    table.set(name, {
      name,
      kind,
      ...(value.runtime !== undefined ? { runtime: value.runtime } : {}),
      ...(value.uri !== undefined ? { uri: value.uri } : {}),
      ...(value.selector !== undefined ? { selector: value.selector } : {}),
      ...(value.targets !== undefined ? { members: value.targets } : {}),
      ...(value.inventory !== undefined ? { inventory: value.inventory } : {}),
      fields,
      ...(monitoring ? { monitoring } : {}),
      path: entry.path,
      line: entry.line,
      lineOf: (key) => section.lineOf([name, key]),
    });
  }
  return table;
}

/** `targets:`: named targets, groups of them and Ansible inventories (docs/targets.md). */
export const targetsConfigSection = defineConfigSection<TargetsTable>({
  name: 'targets',
  description:
    'named targets (a runtime and its fields), groups of targets, Ansible inventories, selector groups (docker labels, k8s label selectors, ~/.ssh/config Host patterns)',
  read: readTargets,
  rows: (table) =>
    [...table.values()].map((entry) => ({
      name: entry.name,
      keyPath: [entry.name],
      value:
        entry.kind === 'group'
          ? `group: ${entry.members?.join(', ')}`
          : entry.kind === 'inventory'
            ? `inventory ${entry.inventory}`
            : entry.kind === 'selector'
              ? `${entry.runtime} selector: ${entry.selector}`
              : (entry.uri ?? `runtime=${entry.runtime}`),
    })),
});
