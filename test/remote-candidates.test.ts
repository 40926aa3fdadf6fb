// A browser's trickled candidates as Firefox sends them: mDNS names, then an empty candidate that ends them, while
// the names are still being resolved. Two real werift peers over loopback; the answerer resolves each name slowly,
// as a loaded machine's mDNS does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { PeerTransport, type CandidateInit } from '../electron/engine/network/peer-transport';
import type { PeerConnection } from '../electron/common/contract';

const ADDRESS_FIELD = 4;

test('an end-of-candidates marker that overtakes mDNS names still being resolved does not fail the call', async () => {
  const names = new Map<string, string>();
  const resolved: string[] = [];
  const offerer = new PeerTransport({ stationId: 'browser', iceServers: [], frameMs: 10, loopbackCandidates: true });
  const answerer = new PeerTransport({
    stationId: 'station',
    iceServers: [],
    frameMs: 10,
    loopbackCandidates: true,
    resolveMdns: async (host) => {
      await sleep(500);
      resolved.push(host);
      return names.get(host) ?? Promise.reject(new Error(`unknown ${host}`));
    },
  });
  const states: PeerConnection[] = [];
  answerer.on('connection', (s) => states.push(s));
  /** Each address candidate as the browser trickles it: its address replaced by a `<uuid>.local` name. */
  const asMdns = (c: CandidateInit): CandidateInit => {
    const fields = c.candidate.trim().split(/\s+/);
    const name = `${crypto.randomUUID()}.local`;
    names.set(name, fields[ADDRESS_FIELD] as string);
    fields[ADDRESS_FIELD] = name;
    return { ...c, candidate: fields.join(' ') };
  };
  const trickle = async (candidates: CandidateInit[]) => {
    const added = candidates.map((c) => answerer.addCandidate(asMdns(c)));
    added.push(answerer.addCandidate({ candidate: '', sdpMid: '0', sdpMLineIndex: 0 }));
    await Promise.all(added);
  };
  try {
    offerer.on('description', (kind, sdp) => {
      if (kind !== 'offer') return;
      // The offer without its candidates and its end marker: they come trickled, as mDNS names.
      const lines = sdp.split('\r\n');
      let mLine = -1;
      const candidates: CandidateInit[] = [];
      for (const l of lines) {
        if (l.startsWith('m=')) mLine++;
        if (l.startsWith('a=candidate:')) candidates.push({ candidate: l.slice(2), sdpMid: '0', sdpMLineIndex: mLine });
      }
      const bare = lines.filter((l) => !l.startsWith('a=candidate:') && !l.startsWith('a=end-of-candidates')).join('\r\n');
      void answerer.acceptOffer(bare).then(() => trickle(candidates));
    });
    offerer.on('candidate', (c) => void (c && trickle([c])));
    // The offerer never learns the answerer's candidates: only the answerer's own checks, which need the names
    // resolved, can bring the call up (else the offerer's checks would, and the race would go unseen).
    const withoutCandidates = (sdp: string) =>
      sdp
        .split('\r\n')
        .filter((l) => !l.startsWith('a=candidate:') && !l.startsWith('a=end-of-candidates'))
        .join('\r\n');
    answerer.on('description', (kind, sdp) => void (kind === 'answer' && offerer.acceptAnswer(withoutCandidates(sdp))));
    const connected = Promise.all([once(offerer, 'connection', { signal: AbortSignal.timeout(15_000) }), waitConnected(answerer)]);
    await offerer.offer();
    await connected;
    assert.ok(resolved.length > 0, 'the answerer resolved the names');
    assert.ok(!states.includes('failed'), `the answerer's call never failed (${states.join(' -> ')})`);
    assert.equal(states.at(-1), 'connected');
  } finally {
    await Promise.all([offerer.close(), answerer.close()]);
  }
});

function waitConnected(peer: PeerTransport): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('not connected within 15 s')), 15_000);
    peer.on('connection', (s) => {
      if (s === 'connected') {
        clearTimeout(timer);
        resolve();
      }
      if (s === 'failed') {
        clearTimeout(timer);
        reject(new Error('the call failed'));
      }
    });
  });
}
