import { fieldNames, type FieldNaming } from './resolve-config.js';
import { describeSchema, fieldKeyProblem, type FieldSpec } from './schema-fields.js';
import { SETTINGS_NAMING, settingsSchema } from './settings.js';

/** How a runtime's fields are named: `--runtime-<name>-<field>` and `RUNTIME_<NAME>_<FIELD>`. */
export function runtimeNaming(runtimeName: string): FieldNaming {
  return { flagPrefix: `runtime-${runtimeName}-`, envPrefix: `RUNTIME_${runtimeName.toUpperCase()}_` };
}

/** The names one field of a group is set by. */
export interface GeneratedOption {
  key: string;
  /** Long flag without dashes. */
  flag: string;
  env: string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Checks that every field of a schema becomes one option a person can type, and that no two
 * fields share a flag or an env var. Returns the options, or the first problem as a sentence.
 * Never throws: the schema may come from a plugin.
 */
export function checkFieldOptions(
  schema: unknown,
  naming: FieldNaming,
): { options: GeneratedOption[]; specs: FieldSpec[] } | { problem: string } {
  let specs: FieldSpec[];
  try {
    specs = describeSchema(schema);
  } catch (error) {
    return { problem: `its configSchema cannot become command-line options: ${(error as Error).message}` };
  }
  const byFlag = new Map<string, string>();
  const byEnv = new Map<string, string>();
  const options: GeneratedOption[] = [];
  for (const spec of specs) {
    const keyProblem = fieldKeyProblem(spec.key);
    if (keyProblem) return { problem: keyProblem };
    if (spec.short !== undefined) {
      return {
        problem: `config field ${spec.key} asks for the short flag -${spec.short}; runtime options have long flags only`,
      };
    }
    if (spec.env !== undefined && !ENV_NAME.test(spec.env)) {
      return {
        problem: `config field ${spec.key} names the env var ${JSON.stringify(spec.env)}, which is not a valid env var name (letters, digits and _, not starting with a digit)`,
      };
    }
    const names = fieldNames(spec, naming);
    // commander stores `--a-1` and `--a1` under one attribute, a1: that is a clash too.
    const sameFlag = byFlag.get(names.flag) ?? byFlag.get(optionAttribute(names.flag));
    if (sameFlag !== undefined) {
      return {
        problem: `config fields ${sameFlag} and ${spec.key} both become --${names.flag}; rename one`,
      };
    }
    const sameEnv = byEnv.get(names.env);
    if (sameEnv !== undefined) {
      return {
        problem: `config fields ${sameEnv} and ${spec.key} both use the env var ${names.env}; rename one`,
      };
    }
    byFlag.set(names.flag, spec.key);
    byFlag.set(optionAttribute(names.flag), spec.key);
    byEnv.set(names.env, spec.key);
    options.push({ key: spec.key, ...names });
  }
  return { options, specs };
}

/** commander's camelCase attribute for a long flag name: `runtime-ssh-key-file` → `runtimeSshKeyFile`. */
export function optionAttribute(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

let settingsOptions: Map<string, string> | undefined;

/**
 * opsmate's own env vars (`OPSMATE_HOME`, `SHELL_COMMAND_RUNTIME`...), by name, with the flag
 * each belongs to. A plugin's option may not take one.
 */
export function opsmateEnvNames(): ReadonlyMap<string, string> {
  if (!settingsOptions) {
    settingsOptions = new Map();
    for (const spec of describeSchema(settingsSchema)) {
      const names = fieldNames(spec, SETTINGS_NAMING);
      settingsOptions.set(names.env, `--${names.flag}`);
    }
  }
  return settingsOptions;
}
