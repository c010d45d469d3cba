// Loaded with `node --import` by `opsmate plugin test`: a plugin's tests import `opsmate` and
// `opsmate/testing` from the opsmate that runs them, and TypeScript loads without a build.
import { enableTypeScript, registerHostResolveHook } from '../host-resolution.js';

registerHostResolveHook();
await enableTypeScript();
