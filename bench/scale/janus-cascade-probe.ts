/**
 * Inside the lab's switch namespace (see janus-cascade.ts): one line spread over two Janus servers, one per site.
 * A talker publishes on site 1; site 2 gets it as a remote publisher (`add_remote_publisher` there,
 * `publish_remotely` on site 1: RTP forwarded between the two). A listener on each site subscribes; every packet's
 * arrival at both is timed on this one clock. Prints one JSON line: the per-packet extra delay of the second hop.
 *   node --import tsx bench/scale/janus-cascade-probe.ts URL1 KEY1 URL2 KEY2 SITE2_ADDRESS
 */
import WebSocket from 'ws';
import { JanusSession, type JanusHandle, type JanusSocket } from '../../electron/common/janus-client';
import { JanusLine } from '../../electron/engine/janus/janus-line';
import { median, percentile } from '../support/chirp';

const socket = (u: string, p: string) => new WebSocket(u, p) as unknown as JanusSocket;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function admin(url: string): Promise<{ session: JanusSession; handle: JanusHandle }> {
  const session = await JanusSession.connect(url, socket);
  return { session, handle: await session.attach('janus.plugin.videoroom') };
}

async function main(): Promise<void> {
  const [url1, key1, url2, key2, site2] = process.argv.slice(2) as [string, string, string, string, string];
  const room = 1000 + Math.floor(Math.random() * 1e6);
  const [a1, a2] = await Promise.all([admin(url1), admin(url2)]);
  for (const [a, key] of [[a1, key1], [a2, key2]] as const) await a.handle.request({ request: 'create', room, admin_key: key, audiocodec: 'opus', publishers: 100 });
  const access = (url: string) => ({ url, room });
  const talker = new JanusLine({ line: 'big', stationId: 'talker', access: access(url1), frameMs: 10, loopbackCandidates: false });
  const near = new JanusLine({ line: 'big', stationId: 'near', access: access(url1), frameMs: 10, loopbackCandidates: false, publish: false });
  const far = new JanusLine({ line: 'big', stationId: 'far', access: access(url2), frameMs: 10, loopbackCandidates: false, publish: false });
  await talker.start();
  await sleep(500);
  const listed = await a1.handle.request({ request: 'listparticipants', room });
  const publisher = (listed.participants as { id: number; display?: string; publisher?: boolean }[]).find((p) => p.display === 'talker');
  if (!publisher) throw new Error(`talker not published on site 1: ${JSON.stringify(listed)}`);
  const remote = await a2.handle.request({ request: 'add_remote_publisher', room, display: 'talker', streams: [{ type: 'audio', mindex: 0, mid: '0', codec: 'opus' }] });
  await a1.handle.request({ request: 'publish_remotely', room, publisher_id: publisher.id, remote_id: 'site2', host: site2, port: remote.port, ...(remote.rtcp_port ? { rtcp_port: remote.rtcp_port } : {}) });
  await near.start();
  await far.start();
  const arrivals = { near: new Map<number, number>(), far: new Map<number, number>() };
  near.on('rtp', (_s, rtp) => arrivals.near.set(((rtp.payload[3] ?? 0) << 8) | (rtp.payload[4] ?? 0), performance.now()));
  far.on('rtp', (_s, rtp) => arrivals.far.set(((rtp.payload[3] ?? 0) << 8) | (rtp.payload[4] ?? 0), performance.now()));
  for (let i = 0; i < 100 && (near.state !== 'connected' || far.state !== 'connected'); i++) await sleep(100);
  await sleep(1500);
  const sent = new Map<number, number>();
  for (let i = 0; i < 500; i++) {
    const payload = Buffer.from([0xf8, 0xff, 0xfe, i >> 8, i & 255]);
    sent.set(i, performance.now());
    talker.send({ payloadType: 111, seq: i, timestamp: i * 480, marker: false, ssrc: 1, payload }, 127);
    await sleep(10);
  }
  await sleep(500);
  const hop: number[] = [];
  const nearLat: number[] = [];
  const farLat: number[] = [];
  for (const [i, t] of sent) {
    const n = arrivals.near.get(i);
    const f = arrivals.far.get(i);
    if (n !== undefined) nearLat.push(n - t);
    if (f !== undefined) farLat.push(f - t);
    if (n !== undefined && f !== undefined) hop.push(f - n);
  }
  const r = (x: number) => Math.round(x * 100) / 100;
  console.log(
    JSON.stringify({
      sent: sent.size,
      near_received: arrivals.near.size,
      far_received: arrivals.far.size,
      near_ms: r(median(nearLat)),
      far_ms: r(median(farLat)),
      added_hop_ms: r(median(hop)),
      added_hop_p95_ms: r(percentile(hop, 95)),
    }),
  );
  await Promise.all([talker.close(), near.close(), far.close()]);
  await Promise.all([a1.session.close(), a2.session.close()]);
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(`probe: ${e.message}`);
    process.exit(1);
  },
);
