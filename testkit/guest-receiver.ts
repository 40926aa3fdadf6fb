// What a browser guest's WebRTC receivers made of the audio they got, read from the page: for a failure message that
// must tell a station that sent badly from a browser that played badly. Works on a Playwright or a Puppeteer page.
interface InboundStats {
  type: string;
  jitterBufferEmittedCount?: number;
  jitterBufferDelay?: number;
  concealedSamples?: number;
  totalSamplesReceived?: number;
  packetsReceived?: number;
}
interface StatsSource {
  getStats(): Promise<Map<string, InboundStats>>;
}
declare const window: { partylinePeers?: () => StatsSource[] };

interface PageLike {
  evaluate(fn: () => Promise<string>): Promise<string>;
}

/** Per inbound stream: jitter buffer delay, the share concealed, packets received; 'no inbound RTP' if none. */
export async function receiverSummary(page: PageLike): Promise<string> {
  try {
    return await page.evaluate(async () => {
      const pcs = window.partylinePeers?.() ?? [];
      const out: string[] = [];
      for (const pc of pcs) {
        for (const s of (await pc.getStats()).values()) {
          if (s.type !== 'inbound-rtp') continue;
          const emitted = s.jitterBufferEmittedCount || 1;
          const delay = ((s.jitterBufferDelay ?? 0) / emitted) * 1000;
          const concealed = (100 * (s.concealedSamples ?? 0)) / (s.totalSamplesReceived || 1);
          out.push(
            `jitter buffer ${delay.toFixed(0)} ms, concealed ${concealed.toFixed(1)} %, ${s.packetsReceived} packets`,
          );
        }
      }
      return out.join('; ') || 'no inbound RTP';
    });
  } catch (e) {
    return `receiver stats unreadable (${(e as Error).message})`;
  }
}
