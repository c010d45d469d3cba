// Test helpers for plugin authors: `import { runtimeConformanceSuite } from 'opsmate/testing'`.
export { runtimeConformanceSuite, type ConformanceSuiteOptions } from './conformance-suite.js';
export { privilegeConformanceSuite, type PrivilegeSuiteOptions } from './privilege-suite.js';
// The contract part any runtime passes, shell or not (SQL, an API), parameterised by its commands.
export {
  runtimeContractSuite,
  SHELL_CONTRACT_COMMANDS,
  type ContractCommands,
  type ContractSuiteOptions,
} from './contract-suite.js';
