// The desktop app's log file: pino records with their level, component and subject, every record kept, rotated at
// its size with one previous file, and a log folder that cannot be written does not throw into the engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createAppLog, LOG_FILE } from '../electron/electron-main/app-log';

test('each record keeps its level, component and subject; the file rotates at its size, keeping one previous file', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'partyline-app-log-'));
  try {
    const echoed: string[] = [];
    const log = createAppLog(dir, { maxBytes: 4096, echo: (t) => echoed.push(t) });
    log.child({ component: 'audio' }).info('input default (ok)');
    log.child({ component: 'peer', subject: 'B' }).info('connected');
    log.warn('no component at all');
    const playout = log.child({ component: 'playout' });
    for (let i = 0; i < 100; i++) playout.info(`B: line ${i} ${'x'.repeat(40)}`);
    await log.close();

    assert.deepEqual((await readdir(dir)).sort(), [LOG_FILE, `${LOG_FILE}.1`], 'the current file and one previous, no more');
    const records = [...(await readFile(path.join(dir, `${LOG_FILE}.1`), 'utf8')).split('\n'), ...(await readFile(path.join(dir, LOG_FILE), 'utf8')).split('\n')]
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { level: number; time: string; component?: string; subject?: string; msg: string });
    const last = records.at(-1);
    assert.equal(last?.msg, `B: line 99 ${'x'.repeat(40)}`, 'the latest record is in the current file');
    assert.equal(last?.component, 'playout');
    assert.equal(last?.level, 30, 'info');
    assert.match(last?.time ?? '', /^\d{4}-\d\d-\d\dT/);
    for (const r of records) assert.ok(Buffer.byteLength(JSON.stringify(r)) < 4096);
    const sizes = await Promise.all([LOG_FILE, `${LOG_FILE}.1`].map(async (f) => (await readFile(path.join(dir, f))).length));
    assert.ok(sizes.every((s) => s <= 4096 + 200), `each file near its size at most: ${sizes.join(', ')}`);
    assert.equal(echoed.length, 103, 'every record echoed to stderr as text');
    assert.match(echoed[1] ?? '', /^\S+Z \[peer B\] connected\n$/);
    assert.match(echoed[2] ?? '', /^\S+Z no component at all\n$/);
    assert.match(echoed[3] ?? '', /^\S+Z \[playout\] B: line 0 /);

    // The first records went with the rotations; a new log appends, each record with its fields.
    const log2 = createAppLog(dir, { echo: () => undefined });
    log2.child({ component: 'audio' }).error('input default: gone');
    log2.child({ component: 'peer', subject: 'B' }).info('connected');
    log2.info('no component at all');
    await log2.close();
    const tail = (await readFile(path.join(dir, LOG_FILE), 'utf8'))
      .trim()
      .split('\n')
      .slice(-3)
      .map((l) => JSON.parse(l) as { level: number; component?: string; subject?: string });
    assert.deepEqual(
      tail.map((r) => [r.level, r.component, r.subject]),
      [
        [50, 'audio', undefined],
        [30, 'peer', 'B'],
        [30, undefined, undefined],
      ],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
