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
