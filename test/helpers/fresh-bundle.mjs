// The package's entries load dist/bundle/ (scripts/bundle.mjs), which a bare `npx tsc` does not
// rebuild: a test run after one bundles the new dist/ first, so that no test runs an older agent.
import { bundle, bundleIsStale } from '../../scripts/bundle.mjs';

if (bundleIsStale()) await bundle();
