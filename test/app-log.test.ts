// The desktop app's log file: pino records per component, every engine line kept, rotated at its size with one
// previous file, and a log folder that cannot be written does not throw into the engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createAppLog, LOG_FILE } from '../electron/electron-main/app-log';

test('each line is a record with its component; the file rotates at its size, keeping one previous file', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'partyline-app-log-'));
  try {
    const echoed: string[] = [];
    const log = createAppLog(dir, { maxBytes: 4096, echo: (t) => echoed.push(t) });
    log('[audio] input default (ok)');
    log('[peer B] connected');
    log('no tag at all');
    for (let i = 0; i < 100; i++) log(`[playout] B: line ${i} ${'x'.repeat(40)}`);
    await log.close();

    assert.deepEqual((await readdir(dir)).sort(), [LOG_FILE, `${LOG_FILE}.1`], 'the current file and one previous, no more');
    const records = [...(await readFile(path.join(dir, `${LOG_FILE}.1`), 'utf8')).split('\n'), ...(await readFile(path.join(dir, LOG_FILE), 'utf8')).split('\n')]
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { level: number; time: string; component: string; msg: string });
    const last = records.at(-1);
    assert.equal(last?.msg, `[playout] B: line 99 ${'x'.repeat(40)}`, 'the latest line is in the current file');
    assert.equal(last?.component, 'playout');
    assert.equal(last?.level, 30, 'info');
    assert.match(last?.time ?? '', /^\d{4}-\d\d-\d\dT/);
    for (const r of records) assert.ok(Buffer.byteLength(JSON.stringify(r)) < 4096);
    const sizes = await Promise.all([LOG_FILE, `${LOG_FILE}.1`].map(async (f) => (await readFile(path.join(dir, f))).length));
    assert.ok(sizes.every((s) => s <= 4096 + 200), `each file near its size at most: ${sizes.join(', ')}`);
    assert.equal(echoed.length, 103, 'every line echoed to stderr as text');
    assert.match(echoed[1] ?? '', /^\S+Z \[peer B\] connected\n$/);

    // The first lines went with the rotations; what is kept has them in order and each with its component.
    const log2 = createAppLog(dir, { echo: () => undefined });
    log2('[audio] input default (ok)');
    log2('[peer B] connected');
    log2('no tag at all');
    await log2.close();
    const tail = (await readFile(path.join(dir, LOG_FILE), 'utf8')).trim().split('\n').slice(-3).map((l) => JSON.parse(l) as { component: string });
    assert.deepEqual(tail.map((r) => r.component), ['audio', 'peer', 'app']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
