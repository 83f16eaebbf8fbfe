// `npm run bench -- <name>` runs test/bench/<name>.bench.ts alone; with no name it lists them.
// Benchmarks print their figures and end with one summary line `<name>: key=value ...`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = join(root, 'test', 'bench');
const available = readdirSync(benchDir).filter((f) => f.endsWith('.bench.ts')).map((f) => f.replace(/\.bench\.ts$/, ''));
const names = process.argv.slice(2);
if (names.length === 0) {
  console.log(`usage: npm run bench -- <name>\navailable: ${available.join(' ') || '(none yet)'}`);
  process.exit(available.length ? 0 : 1);
}
for (const name of names) {
  if (!available.includes(name)) {
    console.error(`unknown benchmark "${name}"; available: ${available.join(' ')}`);
    process.exit(2);
  }
  const r = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(benchDir, `${name}.bench.ts`)], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
