// Test helpers for plugin authors: `import { runtimeConformanceSuite } from 'opsmate/testing'`.
export { runtimeConformanceSuite, type ConformanceSuiteOptions } from './conformance-suite.js';
