import { localRuntime } from './local-runtime.js';
import { runtimeConformanceSuite } from '../../testing/conformance-suite.js';
import { existsSync } from 'node:fs';

runtimeConformanceSuite({
  name: 'local (bash)',
  create: (context) => localRuntime.create({ shell: '/bin/bash', env: {} }, context),
});

runtimeConformanceSuite({
  name: 'local (dash)',
  skip: existsSync('/bin/dash') ? false : 'dash is not installed (apt-get install dash)',
  create: (context) => localRuntime.create({ shell: '/bin/dash', env: {} }, context),
});
