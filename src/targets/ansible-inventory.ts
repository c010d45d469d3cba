import { readFileSync } from 'node:fs';
import { ConfigError, errorMessage } from '../errors/opsmate-error.js';
import { yamlModule } from '../config/yaml-module.js';

/** One host of an inventory with its variables merged (all < parent groups < child groups < host). */
export interface InventoryHost {
  name: string;
  vars: Record<string, string>;
  /** Line of the host's first mention in an INI file; 0 in YAML. */
  line: number;
}

/** An Ansible inventory: hosts in file order, and every group's hosts (children included). */
export interface Inventory {
  path: string;
  hosts: ReadonlyMap<string, InventoryHost>;
  groups: ReadonlyMap<string, readonly string[]>;
}

/** Most hosts one `web[01:20]` range may make: a typo must not allocate millions of names. */
const MAX_RANGE_HOSTS = 100_000;

interface GroupDraft {
  hosts: string[];
  children: string[];
  vars: Record<string, string>;
}

interface Draft {
  path: string;
  groups: Map<string, GroupDraft>;
  hostVars: Map<string, Record<string, string>>;
  hostLines: Map<string, number>;
}

/**
 * Reads an Ansible inventory file: YAML (`.yml`, `.yaml`, `.json`, or a file whose first entry is
 * a mapping) or INI. Throws a ConfigError naming the file and line of what it cannot read.
 */
export function readInventory(path: string): Inventory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the inventory ${path}: ${errorMessage(error)}`, {
      hint: 'give the path of an Ansible inventory file (INI or YAML)',
    });
  }
  return parseInventory(text, path);
}

export function parseInventory(text: string, path: string): Inventory {
  const yamlLike = /\.(ya?ml|json)$/i.test(path) || /^\s*[A-Za-z0-9_-]+:\s*$/m.test(firstLine(text));
  return finish(yamlLike ? parseYamlInventory(text, path) : parseIniInventory(text, path));
}

function firstLine(text: string): string {
  return text.split('\n').find((line) => line.trim() !== '' && !/^\s*[#;]/.test(line)) ?? '';
}

function newDraft(path: string): Draft {
  const groups = new Map<string, GroupDraft>();
  groups.set('all', { hosts: [], children: [], vars: {} });
  groups.set('ungrouped', { hosts: [], children: [], vars: {} });
  return { path, groups, hostVars: new Map(), hostLines: new Map() };
}

function group(draft: Draft, name: string): GroupDraft {
  let found = draft.groups.get(name);
  if (!found) {
    found = { hosts: [], children: [], vars: {} };
    draft.groups.set(name, found);
  }
  return found;
}

function addHost(
  draft: Draft,
  groupName: string,
  name: string,
  vars: Record<string, string>,
  line: number,
): void {
  const members = group(draft, groupName).hosts;
  if (!members.includes(name)) members.push(name);
  draft.hostVars.set(name, { ...(draft.hostVars.get(name) ?? {}), ...vars });
  if (!draft.hostLines.has(name)) draft.hostLines.set(name, line);
}

/** `web[01:20].example.com`, `db-[a:c]`, `[1:10:2]`: every name the ranges make, in order. */
export function expandHostRange(pattern: string): string[] {
  const match = /\[([^\]:]+):([^\]:]+)(?::(\d+))?\]/.exec(pattern);
  if (!match) return [pattern];
  const [whole, start = '', end = '', strideText] = match;
  const stride = strideText === undefined ? 1 : Number(strideText);
  const before = pattern.slice(0, match.index);
  const after = pattern.slice(match.index + whole.length);
  const values: string[] = [];
  if (/^\d+$/.test(start) && /^\d+$/.test(end)) {
    const width = start.length > 1 && start.startsWith('0') ? start.length : 0;
    const from = Number(start);
    const to = Number(end);
    if (to < from || stride < 1) throw new Error(`range [${start}:${end}] goes nowhere`);
    if ((to - from) / stride > MAX_RANGE_HOSTS) throw new Error(`range [${start}:${end}] is too large`);
    for (let value = from; value <= to; value += stride) values.push(String(value).padStart(width, '0'));
  } else if (/^[a-z]$/i.test(start) && /^[a-z]$/i.test(end)) {
    const from = start.charCodeAt(0);
    const to = end.charCodeAt(0);
    if (to < from || stride < 1) throw new Error(`range [${start}:${end}] goes nowhere`);
    for (let value = from; value <= to; value += stride) values.push(String.fromCharCode(value));
  } else {
    throw new Error(`range [${start}:${end}] must be numbers or single letters`);
  }
  return values.flatMap((value) => expandHostRange(`${before}${value}${after}`));
}

/** `k=v k2="v 2"` as Ansible's INI reads it (shell-like words; quotes removed). */
function keyValues(words: string[], where: () => string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const word of words) {
    const equals = word.indexOf('=');
    if (equals <= 0) throw inventoryError(where(), `expected key=value, got ${JSON.stringify(word)}`);
    vars[word.slice(0, equals)] = word.slice(equals + 1);
  }
  return vars;
}

function splitWords(line: string): string[] {
  const words: string[] = [];
  let current = '';
  let quote: string | undefined;
  let inWord = false;
  for (const character of line) {
    if (quote) {
      if (character === quote) quote = undefined;
      else current += character;
    } else if (character === '"' || character === "'") {
      quote = character;
      inWord = true;
    } else if (/\s/.test(character)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else if (character === '#' && !inWord) {
      break;
    } else {
      current += character;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

function parseIniInventory(text: string, path: string): Draft {
  const draft = newDraft(path);
  let section: { group: string; kind: 'hosts' | 'vars' | 'children' } = { group: 'ungrouped', kind: 'hosts' };
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNumber = index + 1;
    const where = (): string => `${path}:${lineNumber}`;
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[([^\]:]+)(?::(vars|children))?\]$/.exec(line);
    if (header) {
      section = { group: header[1]!, kind: (header[2] as 'vars' | 'children' | undefined) ?? 'hosts' };
      group(draft, section.group);
      return;
    }
    if (line.startsWith('[')) throw inventoryError(where(), `cannot read the section header ${line}`);
    const words = splitWords(line);
    if (words.length === 0) return;
    if (section.kind === 'vars') {
      Object.assign(group(draft, section.group).vars, keyValues(words, where));
      return;
    }
    if (section.kind === 'children') {
      const children = group(draft, section.group).children;
      if (!children.includes(words[0]!)) children.push(words[0]!);
      group(draft, words[0]!);
      return;
    }
    const [hostPattern, ...rest] = words;
    const vars = keyValues(rest, where);
    let names: string[];
    try {
      names = expandHostRange(hostPattern!);
    } catch (error) {
      throw inventoryError(where(), errorMessage(error));
    }
    for (const name of names) addHost(draft, section.group, name, vars, lineNumber);
  });
  return draft;
}

function parseYamlInventory(text: string, path: string): Draft {
  const draft = newDraft(path);
  let document: unknown;
  try {
    document = yamlModule().parse(text);
  } catch (error) {
    throw inventoryError(path, errorMessage(error));
  }
  if (document === null || document === undefined) return draft;
  if (!isObject(document)) throw inventoryError(path, 'expected a mapping of groups (all: ...)');
  const readGroup = (name: string, value: unknown, trail: string): void => {
    const target = group(draft, name);
    if (value === null || value === undefined) return;
    if (!isObject(value))
      throw inventoryError(path, `${trail} must be a mapping of hosts, vars and children`);
    for (const key of Object.keys(value)) {
      if (!['hosts', 'vars', 'children'].includes(key))
        throw inventoryError(path, `${trail}.${key}: a group takes hosts, vars and children`);
    }
    if (value.vars !== undefined && value.vars !== null) {
      if (!isObject(value.vars)) throw inventoryError(path, `${trail}.vars must be a mapping`);
      Object.assign(target.vars, scalars(value.vars));
    }
    if (value.hosts !== undefined && value.hosts !== null) {
      if (!isObject(value.hosts))
        throw inventoryError(path, `${trail}.hosts must be a mapping of host names`);
      for (const [pattern, hostVars] of Object.entries(value.hosts)) {
        if (hostVars !== null && !isObject(hostVars))
          throw inventoryError(path, `${trail}.hosts.${pattern} must be a mapping of variables`);
        let names: string[];
        try {
          names = expandHostRange(pattern);
        } catch (error) {
          throw inventoryError(path, `${trail}.hosts.${pattern}: ${errorMessage(error)}`);
        }
        const vars = hostVars ? scalars(hostVars) : {};
        for (const host of names) addHost(draft, name, host, vars, 0);
      }
    }
    if (value.children !== undefined && value.children !== null) {
      if (!isObject(value.children))
        throw inventoryError(path, `${trail}.children must be a mapping of groups`);
      for (const [child, childValue] of Object.entries(value.children)) {
        if (!target.children.includes(child)) target.children.push(child);
        readGroup(child, childValue, `${trail}.children.${child}`);
      }
    }
  };
  for (const [name, value] of Object.entries(document)) readGroup(name, value, name);
  return draft;
}

function scalars(value: Record<string, unknown>): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === null || item === undefined) continue;
    if (typeof item === 'object') continue; // Structured vars mean nothing to a connection; kept out.
    vars[key] = String(item);
  }
  return vars;
}

/** Every group's hosts (children included, cycles cut), and each host's vars merged by group depth. */
function finish(draft: Draft): Inventory {
  const all = draft.groups.get('all')!;
  for (const name of draft.groups.keys()) {
    if (name !== 'all' && !all.children.includes(name) && !isChildOfAny(draft, name)) all.children.push(name);
  }
  const membersOf = (name: string, seen: Set<string>): string[] => {
    if (seen.has(name)) return [];
    seen.add(name);
    const entry = draft.groups.get(name);
    if (!entry) return [];
    return [...entry.hosts, ...entry.children.flatMap((child) => membersOf(child, seen))];
  };
  const groups = new Map<string, string[]>();
  for (const name of draft.groups.keys()) groups.set(name, [...new Set(membersOf(name, new Set()))]);
  // Hosts in no group but `all` are `ungrouped`, as Ansible has it.
  const grouped = new Set(
    [...draft.groups].filter(([name]) => !['all', 'ungrouped'].includes(name)).flatMap(([, g]) => g.hosts),
  );
  groups.set('ungrouped', [
    ...new Set([
      ...(draft.groups.get('ungrouped')?.hosts ?? []),
      ...all.hosts.filter((h) => !grouped.has(h)),
    ]),
  ]);
  const depth = new Map<string, number>();
  const depthOf = (name: string, seen: Set<string>): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    if (name === 'all' || seen.has(name)) return 0;
    seen.add(name);
    const parents = [...draft.groups]
      .filter(([, entry]) => entry.children.includes(name))
      .map(([parent]) => parent);
    const value = 1 + Math.max(0, ...parents.map((parent) => depthOf(parent, seen)));
    depth.set(name, value);
    return value;
  };
  const hosts = new Map<string, InventoryHost>();
  const hostNames = [...new Set([...draft.hostLines.keys()])];
  for (const name of hostNames) {
    const memberOf = [...groups]
      .filter(([, members]) => members.includes(name))
      .map(([groupName]) => groupName);
    memberOf.sort((a, b) => depthOf(a, new Set()) - depthOf(b, new Set()) || a.localeCompare(b));
    const vars: Record<string, string> = {};
    for (const groupName of memberOf) Object.assign(vars, draft.groups.get(groupName)?.vars ?? {});
    Object.assign(vars, draft.hostVars.get(name) ?? {});
    hosts.set(name, { name, vars, line: draft.hostLines.get(name) ?? 0 });
  }
  groups.set('all', hostNames);
  return { path: draft.path, hosts, groups };
}

function isChildOfAny(draft: Draft, name: string): boolean {
  return [...draft.groups.values()].some((entry) => entry.children.includes(name));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function inventoryError(where: string, message: string): ConfigError {
  return new ConfigError(`inventory ${where}: ${message}`, {
    hint: 'see https://docs.ansible.com/ansible/latest/inventory_guide/intro_inventory.html for the format',
  });
}
