// What a browser guest's WebRTC receivers made of the audio they got, read from the page: for a failure message that
// must tell a station that sent badly from a browser that played badly. Works on a Playwright or a Puppeteer page.
interface InboundStats {
  type: string;
  jitter?: number;
  jitterBufferEmittedCount?: number;
  jitterBufferDelay?: number;
  jitterBufferTargetDelay?: number;
  concealedSamples?: number;
  insertedSamplesForDeceleration?: number;
  removedSamplesForAcceleration?: number;
  totalSamplesReceived?: number;
  packetsReceived?: number;
}
interface StatsSource {
  connectionState?: string;
  getStats(): Promise<Map<string, InboundStats>>;
}
declare const window: { partylinePeers?: () => StatsSource[] };

interface PageLike {
  evaluate(fn: () => Promise<string>): Promise<string>;
}

/**
 * Per inbound stream: the jitter the browser measured on arrival (a station that sends in bursts, or a browser too
 * busy to read its socket), its jitter buffer's mean delay and target, and what its playout did to the audio: the
 * share concealed, stretched and squeezed (each distorts a tone), and packets received. A connection with no inbound
 * stream is named with its state: a subscriber that never connected is told from one that connected and got nothing.
 */
export async function receiverSummary(page: PageLike): Promise<string> {
  try {
    return await page.evaluate(async () => {
      const pcs = window.partylinePeers?.() ?? [];
      const out: string[] = [];
      for (const [i, pc] of pcs.entries()) {
        let inbound = 0;
        for (const s of (await pc.getStats()).values()) {
          if (s.type !== 'inbound-rtp') continue;
          inbound++;
          const emitted = s.jitterBufferEmittedCount || 1;
          const delay = ((s.jitterBufferDelay ?? 0) / emitted) * 1000;
          const target = ((s.jitterBufferTargetDelay ?? 0) / emitted) * 1000;
          // No named functions in here: the test runner's transpiler wraps them in a helper the page does not have.
          const received = s.totalSamplesReceived || 1;
          const [concealed, stretched, squeezed] = [
            s.concealedSamples,
            s.insertedSamplesForDeceleration,
            s.removedSamplesForAcceleration,
          ].map((n) => `${((100 * (n ?? 0)) / received).toFixed(1)} %`);
          out.push(
            `arrival jitter ${((s.jitter ?? 0) * 1000).toFixed(1)} ms, jitter buffer ${delay.toFixed(0)} ms (target ${target.toFixed(0)} ms), ` +
              `concealed ${concealed}, stretched ${stretched}, squeezed ${squeezed}, ${s.packetsReceived} packets`,
          );
        }
        if (inbound === 0) out.push(`connection ${i + 1} (${pc.connectionState ?? '?'}): no inbound RTP`);
      }
      return out.join('; ') || 'no connections';
    });
  } catch (e) {
    return `receiver stats unreadable (${(e as Error).message})`;
  }
}

interface CountingPage {
  evaluate(fn: () => Promise<number>): Promise<number>;
}

/**
 * Waits until the guest's receivers have got RTP on `streams` inbound streams, as a test waits for a station's
 * "first RTP": audio is asserted on only after every path has carried a packet. Throws with the receivers' state.
 */
export async function waitForInbound(page: CountingPage & PageLike, streams: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const live = await page.evaluate(async () => {
      let n = 0;
      for (const pc of window.partylinePeers?.() ?? []) {
        for (const s of (await pc.getStats()).values())
          if (s.type === 'inbound-rtp' && (s.packetsReceived ?? 0) > 0) n++;
      }
      return n;
    });
    if (live >= streams) return;
    if (Date.now() > deadline)
      throw new Error(
        `the guest got RTP on ${live} of ${streams} inbound streams within ${timeoutMs} ms (${await receiverSummary(page)})`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One end of a connection's selected candidate pair; `address` is empty or missing where the browser hides it (prflx). */
export interface PathEnd {
  address?: string;
  port?: number;
  type?: string;
}

/** The candidate pair a connection's media flows over, and the bytes it carried. */
export interface MediaPath {
  local: PathEnd;
  remote: PathEnd;
  bytes: number;
}

interface PathsPage {
  evaluate(fn: () => Promise<MediaPath[]>): Promise<MediaPath[]>;
}

/**
 * Each of the guest's connections: its selected candidate pair, where its media went. Chromium names the pair on its
 * transport; Firefox has no transport stats and marks the pair `selected` instead.
 */
export function selectedPaths(page: PathsPage): Promise<MediaPath[]> {
  return page.evaluate(async () => {
    const out: MediaPath[] = [];
    for (const pc of window.partylinePeers?.() ?? []) {
      const stats = [...(await pc.getStats()).values()] as unknown as Record<string, unknown>[];
      const transport = stats.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
      const pair = stats.find(
        (s) =>
          s.type === 'candidate-pair' && (transport ? s.id === transport.selectedCandidatePairId : s.selected === true),
      );
      if (!pair) continue;
      // No named functions in here: the test runner's transpiler wraps them in a helper the page does not have.
      const [local, remote] = [pair.localCandidateId, pair.remoteCandidateId]
        .map((id) => stats.find((s) => s.id === id))
        .map((c) => ({
          address: c?.address as string | undefined,
          port: c?.port as number | undefined,
          type: c?.candidateType as string | undefined,
        }));
      out.push({
        local: local ?? {},
        remote: remote ?? {},
        bytes: Number(pair.bytesSent ?? 0) + Number(pair.bytesReceived ?? 0),
      });
    }
    return out;
  });
}

/** A path as a log line: `address:port <-> address:port`, with the candidate type where the address is hidden. */
export function describePath(p: MediaPath): string {
  const end = (e: PathEnd) => `${e.address || `(${e.type ?? '?'})`}:${e.port ?? '?'}`;
  return `${p.local.type ?? '?'} ${end(p.local)} <-> ${p.remote.type ?? '?'} ${end(p.remote)}`;
}
