import type { RuntimeDefinition } from '../runtime/contract.js';
import { RuntimeRegistry } from '../runtime/runtime-registry.js';
import { dockerRuntime } from './docker/docker-runtime.js';
import { k8sRuntime } from './k8s/k8s-runtime.js';
import { localRuntime } from './local/local-runtime.js';
import { sshRuntime } from './ssh/ssh-runtime.js';

/** The runtimes that ship with opsmate. A new built-in runtime is one folder plus one line here. */
export const BUILTIN_RUNTIMES: readonly RuntimeDefinition[] = [
  localRuntime,
  sshRuntime,
  dockerRuntime,
  k8sRuntime,
];

/** A registry holding the built-in runtimes. */
export function builtinRegistry(): RuntimeRegistry {
  const registry = new RuntimeRegistry();
  for (const definition of BUILTIN_RUNTIMES) registry.register(definition);
  return registry;
}
