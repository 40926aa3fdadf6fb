// Runs one tier of the tests: `node test/tiers.mjs unit|integration|e2e [--list]`.
// A test file's tier follows from what it starts, read from its source, so a new file needs no registration:
// - e2e: a real browser, the desktop main process (with the Electron stand-in) or network namespaces, or a file
//   named *-e2e.test.ts (an operator's whole session);
// - integration: a sound server (PulseAudio null sinks) or station/CLI processes;
// - unit: neither; runs in seconds, files in parallel.
// `npm test` runs every tier (and lint and the typecheck); CI runs only that.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const E2E = /chromium|playwright|GuestBrowser|electron-stand-in|main-with-stand-in|netns|lan-link|fault-rig/;
const INTEGRATION =
  /PulseHarness|\/pulse'|StationProcess|station-process|electron\/cli\/(station|signal)\.ts|electron-builder/;

export function tierOf(file, source) {
  if (E2E.test(source) || file.endsWith('-e2e.test.ts')) return 'e2e';
  if (INTEGRATION.test(source)) return 'integration';
  return 'unit';
}

const tier = process.argv[2];
if (!['unit', 'integration', 'e2e'].includes(tier)) {
  process.stderr.write('usage: node test/tiers.mjs unit|integration|e2e [--list]\n');
  process.exit(2);
}
const files = readdirSync(path.join(root, 'test'))
  .filter((f) => f.endsWith('.test.ts'))
  .sort()
  .map((f) => path.join('test', f))
  .filter((f) => tierOf(f, readFileSync(path.join(root, f), 'utf8')) === tier);
if (process.argv.includes('--list')) {
  process.stdout.write(`${files.join('\n')}\n`);
  process.exit(0);
}
// Audio and browser tiers run one file at a time (they share the machine's timing); unit files run in parallel.
const concurrency = tier === 'unit' ? availableParallelism() : 1;
const run = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--import',
    './test/support/stdout-guard.ts',
    '--test',
    `--test-concurrency=${concurrency}`,
    ...files,
  ],
  { cwd: root, stdio: 'inherit' },
);
process.exit(run.status ?? 1);
