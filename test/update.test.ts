import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createNodeUpdateService } from '../electron/update/update-factory';
import { channelFile, feedUpdateService, UpdateFeed } from './support/update-feed';
import { ControlCommandError, type StationState } from '../electron/common/contract';
import { readPackagedFeedUrl } from '../electron/update/app-update-config';
import { activityOf, HEADLESS_UPDATES_REASON, UnmanagedUpdates, UpdateControl } from '../electron/update/update-control';
import { UpdateCoordinator, type EngineActivity } from '../electron/update/update-coordinator';
import {
  UpdateError,
  type UpdateChannel,
  type UpdateEventName,
  type UpdateListener,
  type UpdateOffer,
  type UpdateService,
} from '../electron/update/update-service';

// A real electron-updater DebUpdater (real HTTP, real sha512 verification) against a static feed on loopback.

const work = mkdtempSync(path.join(os.tmpdir(), 'partyline-update-'));

function service(feed: UpdateFeed, version: string, channel: UpdateChannel) {
  const { service: svc, pendingDir } = feedUpdateService(feed, mkdtempSync(path.join(work, 'station-')), version, channel);
  return { svc, pendingDir };
}

function record<E extends UpdateEventName>(svc: UpdateService, event: E): Parameters<UpdateListener<E>>[] {
  const seen: Parameters<UpdateListener<E>>[] = [];
  svc.on(event, ((...args: Parameters<UpdateListener<E>>) => seen.push(args)) as UpdateListener<E>);
  return seen;
}

after(() => rmSync(work, { recursive: true, force: true }));

describe('update feed', () => {
  const feed = new UpdateFeed();
  const stableBuild = randomBytes(96 * 1024);
  const betaBuild = randomBytes(96 * 1024);

  before(async () => {
    await feed.start();
  });
  after(() => feed.stop());

  test('finds, downloads and verifies the update on the chosen channel', async () => {
    feed.publish('latest', '1.0.0', stableBuild);
    const betaFile = feed.publish('beta', '1.1.0-beta.1', betaBuild);
    const { svc, pendingDir } = service(feed, '1.0.0', 'beta');
    const checking = record(svc, 'checking');
    const available = record(svc, 'available');
    const progress = record(svc, 'progress');
    const downloaded = record(svc, 'downloaded');

    const result = await svc.check();
    assert.equal(result.available, true);
    assert.deepEqual(result.offer, {
      version: '1.1.0-beta.1',
      channel: 'beta',
      releaseDate: '2026-11-20T10:00:00.000Z',
      releaseNotes: 'Release 1.1.0-beta.1',
    });
    assert.equal(checking.length, 1);
    assert.deepEqual(available, [[result.offer]]);
    assert.ok(feed.requests.some((r) => r === `partyline/${channelFile('beta')}`), 'the beta channel file was read');

    const offer = await svc.download();
    assert.equal(offer.version, '1.1.0-beta.1');
    assert.deepEqual(svc.downloaded, offer);
    assert.deepEqual(downloaded, [[offer]]);
    assert.ok(progress.length > 0, 'download progress was reported');
    assert.equal(progress.at(-1)?.[0].transferredBytes, betaBuild.length);
    assert.deepEqual(readFileSync(path.join(pendingDir, betaFile)), betaBuild);
  });

  test('reports no update when the feed has the running version', async () => {
    feed.publish('latest', '1.0.0', stableBuild);
    const { svc } = service(feed, '1.0.0', 'stable');
    const notAvailable = record(svc, 'not-available');
    const result = await svc.check();
    assert.equal(result.available, false);
    assert.equal(result.offer.version, '1.0.0');
    assert.equal(notAvailable.length, 1);
    await assert.rejects(svc.download(), (err: unknown) => err instanceof UpdateError && err.code === 'nothing-to-download');
  });

  test('switching from beta to stable never downgrades, and takes the next newer stable', async () => {
    feed.publish('latest', '1.0.0', stableBuild);
    feed.publish('beta', '1.1.0-beta.1', betaBuild);
    const { svc } = service(feed, '1.1.0-beta.1', 'beta');
    assert.equal((await svc.check()).available, false);

    svc.setChannel('stable');
    assert.equal(svc.channel, 'stable');
    feed.requests.length = 0;
    const older = await svc.check();
    assert.deepEqual(feed.requests, [`partyline/${channelFile('latest')}`]);
    assert.equal(older.available, false, 'stable 1.0.0 must not replace beta 1.1.0-beta.1');
    assert.equal(older.offer.version, '1.0.0');

    feed.publish('latest', '1.1.0', stableBuild);
    const newer = await svc.check();
    assert.equal(newer.available, true);
    assert.equal(newer.offer.version, '1.1.0');
    assert.equal(newer.offer.channel, 'stable');
  });

  test('refuses a tampered artifact with a clear sha512 message and keeps nothing', async () => {
    const tampered = Buffer.from(betaBuild);
    tampered[1000] = (tampered[1000] ?? 0) ^ 0xff;
    const name = feed.publish('beta', '1.2.0-beta.1', betaBuild, tampered);
    const { svc, pendingDir } = service(feed, '1.0.0', 'beta');
    const errors = record(svc, 'error');
    assert.equal((await svc.check()).available, true);

    const refused = await svc.download().then(
      () => assert.fail('a tampered download must be refused'),
      (err: unknown) => err,
    );
    assert.ok(refused instanceof UpdateError);
    assert.equal(refused.code, 'checksum-mismatch');
    assert.match(refused.message, /update 1\.2\.0-beta\.1 was refused/);
    assert.match(refused.message, /sha512/);
    assert.match(refused.message, /nothing will be installed/);
    assert.deepEqual(errors, [[refused]]);
    assert.equal(svc.downloaded, null);
    assert.equal(existsSync(path.join(pendingDir, name)), false, 'the tampered file is not kept');
    assert.deepEqual(existsSync(pendingDir) ? readdirSync(pendingDir).filter((f) => f.endsWith('.deb')) : [], []);
  });

  test('a feed that is down gives a clear error, and the next check after it is back succeeds', async () => {
    feed.publish('latest', '1.0.1', stableBuild);
    const { svc } = service(feed, '1.0.0', 'stable');
    const errors = record(svc, 'error');
    const port = feed.port;
    await feed.stop();

    const down = await svc.check().then(
      () => assert.fail('a check against a stopped feed must fail'),
      (err: unknown) => err,
    );
    assert.ok(down instanceof UpdateError);
    assert.equal(down.code, 'feed-unreachable');
    assert.match(down.message, new RegExp(`update feed http://127\\.0\\.0\\.1:${port}/partyline/ is unreachable \\(ECONNREFUSED\\)`));
    assert.equal(errors.length, 1);

    await feed.start(port);
    const back = await svc.check();
    assert.equal(back.available, true);
    assert.equal(back.offer.version, '1.0.1');
  });

  test('a channel the feed does not publish is named in the error', async () => {
    feed.files.delete(`partyline/${channelFile('beta')}`);
    const { svc } = service(feed, '1.0.0', 'beta');
    await assert.rejects(svc.check(), (err: unknown) => {
      assert.ok(err instanceof UpdateError);
      assert.equal(err.code, 'channel-missing');
      assert.match(err.message, /publishes no beta channel/);
      return true;
    });
  });
});

describe('update configuration', () => {
  const app = (dir: string) => ({
    version: '1.0.0',
    name: 'Partyline',
    userDataDir: dir,
    cacheDir: dir,
    appUpdateConfigPath: path.join(dir, 'app-update.yml'),
  });

  test('plain http feeds are refused unless explicitly allowed for development', () => {
    assert.throws(
      () => createNodeUpdateService({ feedUrl: 'http://updates.example.com/partyline/', channel: 'stable', app: app(work) }),
      (err: unknown) => err instanceof UpdateError && err.code === 'insecure-feed' && err.field === 'feedUrl' && /https:\/\//.test(err.message),
    );
    const svc = createNodeUpdateService({ feedUrl: 'https://updates.example.com/partyline', channel: 'stable', app: app(work) });
    assert.equal(svc.currentVersion, '1.0.0');
  });

  test('bad feed URLs and channels name their field', () => {
    assert.throws(
      () => createNodeUpdateService({ feedUrl: 'not a url', channel: 'stable', app: app(work) }),
      (err: unknown) => err instanceof UpdateError && err.code === 'bad-feed-url' && err.field === 'feedUrl',
    );
    assert.throws(
      () => createNodeUpdateService({ feedUrl: 'https://updates.example.com/', channel: 'nightly' as UpdateChannel, app: app(work) }),
      (err: unknown) => err instanceof UpdateError && err.code === 'bad-channel' && err.field === 'channel' && /nightly/.test(err.message),
    );
  });
});

/**
 * The restart policy is exercised against an UpdateService that records installs: the real one would run
 * `dpkg -i` through sudo on this machine.
 */
class InstallRecorder implements UpdateService {
  readonly currentVersion = '1.0.0';
  readonly channel = 'stable' as const;
  installs = 0;
  constructor(public downloaded: UpdateOffer | null) {}
  setChannel(): void {}
  check(): never {
    throw new Error('not used by the coordinator');
  }
  download(): never {
    throw new Error('not used by the coordinator');
  }
  quitAndInstall(): void {
    this.installs++;
  }
  on(): () => void {
    return () => {};
  }
}

describe('UpdateCoordinator', () => {
  const offer: UpdateOffer = { version: '1.1.0', channel: 'stable', releaseDate: '2026-11-20', releaseNotes: null };
  const idle: EngineActivity = { latchedTalkKeys: 0, activeLines: 0 };

  test('restarts at once when the engine is idle, without asking', async () => {
    const svc = new InstallRecorder(offer);
    let asked = 0;
    const outcome = await new UpdateCoordinator(svc, () => idle, async () => (asked++, false)).restartToUpdate();
    assert.deepEqual(outcome, { restarted: true, offer, confirmed: false });
    assert.equal(svc.installs, 1);
    assert.equal(asked, 0);
  });

  test('never restarts over a latched talk key or an active line unless the user confirms', async () => {
    for (const activity of [
      { latchedTalkKeys: 1, activeLines: 0 },
      { latchedTalkKeys: 0, activeLines: 2 },
    ]) {
      const declined = new InstallRecorder(offer);
      const questions: unknown[] = [];
      const no = await new UpdateCoordinator(declined, () => activity, async (q) => (questions.push(q), false)).restartToUpdate();
      assert.deepEqual(no, { restarted: false, reason: 'declined' });
      assert.equal(declined.installs, 0);
      assert.deepEqual(questions, [{ offer, activity }]);

      const accepted = new InstallRecorder(offer);
      const yes = await new UpdateCoordinator(accepted, () => activity, async () => true).restartToUpdate();
      assert.deepEqual(yes, { restarted: true, offer, confirmed: true });
      assert.equal(accepted.installs, 1);
    }
  });

  test('does nothing when no verified update is waiting', async () => {
    const svc = new InstallRecorder(null);
    const outcome = await new UpdateCoordinator(svc, () => idle, async () => true).restartToUpdate();
    assert.deepEqual(outcome, { restarted: false, reason: 'no-update' });
    assert.equal(svc.installs, 0);
  });
});

describe('UpdateControl (the update.* commands)', () => {
  const offer: UpdateOffer = { version: '1.1.0', channel: 'stable', releaseDate: '2026-11-20', releaseNotes: null };
  const talking: StationState = {
    connection: 'joined',
    stationId: 'foh',
    name: 'FOH',
    hosting: null,
    lines: [
      { line: 'Program', talk: true, listen: true, volume: 1, talkers: [] },
      { line: 'Stage', talk: false, listen: true, volume: 1, talkers: [{ stationId: 'b', name: 'Stage Left' }] },
      { line: 'Spare', talk: false, listen: true, volume: 1, talkers: [] },
    ],
    devices: { inputId: null, outputId: null, inputState: 'ok', outputState: 'ok' },
  };

  test('activity counts talk keys that are on and lines with audio, only while on air', () => {
    assert.deepEqual(activityOf(talking), { latchedTalkKeys: 1, activeLines: 2 });
    assert.deepEqual(activityOf({ ...talking, connection: 'idle' }), { latchedTalkKeys: 0, activeLines: 0 });
  });

  test('restart over a latched talk key asks first and installs only once confirmed; idle restarts at once', async () => {
    const svc = new InstallRecorder(offer);
    let state = talking;
    const control = new UpdateControl({ service: svc, engineActivity: async () => activityOf(state) });
    assert.deepEqual(await control.restart(false), { outcome: 'needs-confirmation', offer, activity: { latchedTalkKeys: 1, activeLines: 2 } });
    assert.equal(svc.installs, 0, 'nothing installed without the operator saying so');
    assert.deepEqual(await control.restart(true), { outcome: 'restarting', offer });
    assert.equal(svc.installs, 1);

    state = { ...talking, connection: 'idle' };
    assert.deepEqual(await control.restart(false), { outcome: 'restarting', offer });
    assert.equal(svc.installs, 2);
  });

  test('restart without a verified download is refused, saying why', async () => {
    const control = new UpdateControl({ service: new InstallRecorder(null), engineActivity: async () => activityOf(talking) });
    await assert.rejects(control.restart(true), /no verified update has been downloaded/);
  });

  test('a station that does not update itself says who does, and refuses every action with that reason', async () => {
    const updates = new UnmanagedUpdates('0.1.0', HEADLESS_UPDATES_REASON);
    assert.deepEqual(updates.state(), { phase: 'unmanaged', currentVersion: '0.1.0', channel: null, offer: null, progress: null, message: HEADLESS_UPDATES_REASON, checkedAt: null });
    assert.match(HEADLESS_UPDATES_REASON, /managed by the desktop app/);
    for (const action of [() => updates.check(), () => updates.download(), () => updates.setChannel(), () => updates.restart()]) {
      await assert.rejects(action(), (error: ControlCommandError) => error.code === 'failed' && error.message === HEADLESS_UPDATES_REASON);
    }
  });
});

describe('packaged update configuration', () => {
  test('the feed URL comes from the app-update.yml electron-builder writes; a file without one is named', async () => {
    const file = path.join(work, 'app-update.yml');
    writeFileSync(file, "owner: x\nprovider: generic\nurl: 'https://updates.example.com/partyline/'\nupdaterCacheDirName: partyline-updater\n");
    assert.equal(await readPackagedFeedUrl(file), 'https://updates.example.com/partyline/');
    writeFileSync(file, 'provider: generic\n');
    await assert.rejects(readPackagedFeedUrl(file), (err: unknown) => err instanceof UpdateError && err.field === 'feedUrl' && err.message.includes(file));
    await assert.rejects(readPackagedFeedUrl(path.join(work, 'missing.yml')), (err: unknown) => err instanceof UpdateError && /no update configuration/.test(err.message));
  });
});
