// Standalone entry of the shim for a small bundle (esbuild) run with plain node: the shim imports
// nothing but its own folder, the libc bindings and the cgroup files.
import { runShim } from './shim';

runShim(process.argv.slice(2));
