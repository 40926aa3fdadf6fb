// The layer rules (.dependency-cruiser.cjs) hold for the tree, and a violation fails naming the rule it breaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.join(__dirname, '..');
const depcruise = path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const config = path.join(root, '.dependency-cruiser.cjs');

function cruise(cwd: string, ...folders: string[]) {
  return spawnSync(process.execPath, [depcruise, '--config', config, '--output-type', 'err', ...folders], {
    cwd,
    encoding: 'utf8',
  });
}

test('a tree that breaks the layers fails, naming each rule it breaks', () => {
  const result = cruise(path.join(__dirname, 'fixtures', 'layer-violation'), 'electron', 'renderer');
  const report = result.stdout + result.stderr;
  assert.notEqual(result.status, 0, 'the check fails');
  assert.match(
    report,
    /engine-not-signalling-or-app: electron\/engine\/station\.ts → electron\/signalling\/client\.ts/,
  );
  assert.match(report, /common-imports-only-common: electron\/common\/contract\.ts → (node:)?fs/);
  assert.match(report, /browser-no-node-builtins: electron\/common\/contract\.ts/);
  assert.match(
    report,
    /browser-imports-only-browser-and-common: renderer\/src\/link\.ts → electron\/engine\/station\.ts/,
  );
});

test('the project keeps its layers', () => {
  const result = cruise(root, 'electron', 'native', 'renderer/src', 'guest/src', 'test', 'testkit', 'bench', 'build');
  assert.equal(result.status, 0, result.stdout + result.stderr);
});
