// A third party's client, written from docs/signalling.md alone, against a real station in its own process: the
// station must describe (offer or answer) before it trickles its candidates, because a browser cannot add a candidate
// before the remote description ("InvalidStateError: ... The remote description was null").
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RTCPeerConnection, type RTCIceCandidate } from 'werift';
import { WebSocket } from 'ws';
import { SignallingServer } from '../electron/signalling/server';
import { PulseHarness } from '../testkit/pulse';
import { StationProcess } from '../testkit/station-process';

type Relayed = { type: string; from?: string; sdp?: string; candidate?: Candidate | null; peers?: { stationId: string }[] };
type Candidate = { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null };

/** One call with one peer, as the docs describe it. */
interface Call {
  pc: RTCPeerConnection;
  /** What the peer sent us, in order of arrival: 'offer', 'answer', 'candidate', 'end-of-candidates'. */
  arrived: string[];
  /** The peer's candidates we added to ICE. */
  applied: number;
  /** Our own candidates, held until our description has gone out (as the docs ask of both sides). */
  ours: (Candidate | null)[] | undefined;
  ended: Promise<void>;
  endNow: () => void;
}

class DocClient {
  readonly calls = new Map<string, Call>();
  /** Anything a browser would have thrown at us, or refused from the server. */
  readonly problems: string[] = [];
  private chain = Promise.resolve();

  private constructor(
    private readonly ws: WebSocket,
    readonly id: string,
  ) {
    // A browser applies descriptions and candidates through one operations chain; handling messages one at a time, in
    // order, is the same thing here.
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as Relayed;
      this.chain = this.chain.then(() => this.receive(msg)).catch((e: Error) => void this.problems.push(`${msg.type} from ${msg.from}: ${e.message}`));
    });
  }

  static async join(url: string, id: string, line: string): Promise<{ client: DocClient; peers: string[] }> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const joined = new Promise<Relayed>((resolve) => ws.once('message', (data) => resolve(JSON.parse(data.toString()) as Relayed)));
    const client = new DocClient(ws, id);
    ws.send(JSON.stringify({ type: 'join', stationId: id, name: id, kind: 'browser', lines: [{ line }], protocol: 1 }));
    const first = await joined;
    assert.equal(first.type, 'joined', JSON.stringify(first));
    const peers = (first.peers ?? []).map((p) => p.stationId);
    // The newcomer offers to everyone already there.
    for (const peer of peers) {
      client.chain = client.chain.then(() => client.offer(peer));
    }
    return { client, peers };
  }

  private send(msg: object): void {
    this.ws.send(JSON.stringify(msg));
  }

  private call(peer: string): Call {
    let call = this.calls.get(peer);
    if (call) return call;
    const pc = new RTCPeerConnection({ iceAdditionalHostAddresses: ['127.0.0.1'] });
    let endNow = () => {};
    const ended = new Promise<void>((resolve) => (endNow = resolve));
    const created: Call = { pc, arrived: [], applied: 0, ours: [], ended, endNow };
    call = created;
    pc.onIceCandidate.subscribe((c?: RTCIceCandidate) => {
      const candidate = c ? { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null } : null;
      if (created.ours) created.ours.push(candidate);
      else this.send({ type: 'candidate', to: peer, candidate });
    });
    this.calls.set(peer, call);
    return call;
  }

  /** Our description, then the candidates gathered while it was made. */
  private describe(peer: string, call: Call, type: 'offer' | 'answer'): void {
    this.send({ type, to: peer, sdp: call.pc.localDescription?.sdp });
    const held = call.ours ?? [];
    call.ours = undefined;
    for (const candidate of held) this.send({ type: 'candidate', to: peer, candidate });
  }

  private async offer(peer: string): Promise<void> {
    const call = this.call(peer);
    call.pc.addTransceiver('audio', { direction: 'sendrecv' });
    await call.pc.setLocalDescription(await call.pc.createOffer());
    this.describe(peer, call, 'offer');
  }

  private async receive(msg: Relayed): Promise<void> {
    const from = msg.from ?? '';
    switch (msg.type) {
      case 'offer': {
        const call = this.call(from);
        call.arrived.push('offer');
        await call.pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp ?? '' });
        await call.pc.setLocalDescription(await call.pc.createAnswer());
        this.describe(from, call, 'answer');
        return;
      }
      case 'answer': {
        const call = this.call(from);
        call.arrived.push('answer');
        await call.pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp ?? '' });
        return;
      }
      case 'candidate': {
        const call = this.call(from);
        if (!msg.candidate) {
          call.arrived.push('end-of-candidates');
          call.endNow();
          return;
        }
        call.arrived.push('candidate');
        // werift would quietly keep it for later; a browser throws, and so do we.
        if (!call.pc.remoteDescription) throw new Error('InvalidStateError: the remote description was null');
        await call.pc.addIceCandidate(msg.candidate);
        call.applied += 1;
        return;
      }
      case 'error':
        this.problems.push(`server error: ${JSON.stringify(msg)}`);
        return;
      default:
        return; // presence, talk, bye: not this test's business
    }
  }

  /** The peer's end-of-candidates has arrived, and the call has come up. */
  async settled(peer: string): Promise<Call> {
    for (;;) {
      const call = this.calls.get(peer);
      if (call) {
        await call.ended;
        if (call.pc.connectionState !== 'connected') {
          await new Promise<void>((resolve) => {
            const sub = call.pc.connectionStateChange.subscribe((state) => {
              if (state !== 'connected') return;
              sub.unSubscribe();
              resolve();
            });
            if (call.pc.connectionState === 'connected') resolve();
          });
        }
        await this.chain;
        return call;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async close(): Promise<void> {
    this.ws.terminate();
    await Promise.all([...this.calls.values()].map((c) => c.pc.close().catch(() => undefined)));
  }
}

let pulse: PulseHarness;
before(async () => {
  pulse = await PulseHarness.start(['a']);
});
after(async () => {
  await pulse?.stop();
});

test('a client written from the docs: the station sends its description before its candidates, offering and answering', { timeout: 90_000 }, async (t) => {
  const server = new SignallingServer({ port: 0 });
  const { url } = await server.start();
  const clients: DocClient[] = [];
  const d = pulse.devices('a');
  // A joins after `early` (so A offers to it) and before `late` (so `late` offers to A).
  const early = await DocClient.join(url, 'early', 'main');
  clients.push(early.client);
  assert.deepEqual(early.peers, []);
  const a = new StationProcess(['--name', 'A', '--server', url, '--insecure', '--line', 'main', '--input', d.inputId, '--output', d.outputId], pulse.env);
  try {
    const offered = await early.client.settled('A');
    const late = await DocClient.join(url, 'late', 'main');
    clients.push(late.client);
    assert.deepEqual(late.peers.sort(), ['A', 'early']);
    const answered = await late.client.settled('A');

    for (const [who, call, description] of [
      ['early', offered, 'offer'],
      ['late', answered, 'answer'],
    ] as const) {
      const fromA = call.arrived;
      t.diagnostic(`${who} got from A: ${fromA.join(', ')}`);
      assert.equal(fromA[0], description, `${who}: A's ${description} comes first (${fromA.join(', ')})`);
      assert.equal(fromA.filter((m) => m === 'offer' || m === 'answer').length, 1, `${who}: one description (${fromA.join(', ')})`);
      assert.equal(fromA.at(-1), 'end-of-candidates', `${who}: end-of-candidates comes last (${fromA.join(', ')})`);
      assert.ok(call.applied >= 1, `${who}: A's candidates were added to ICE (${fromA.join(', ')})`);
      assert.equal(call.pc.connectionState, 'connected');
    }
    assert.deepEqual([...early.client.problems, ...late.client.problems], [], 'no candidate before its description, nothing refused');
    await a.waitFor(/\[peer late\] connected/);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    assert.equal(await a.stop(), '0', `A exits cleanly on SIGINT (last lines: ${a.tail()})`);
    await server.close();
  }
});
