/**
 * A UdpRelay and its SignallingProxy as a process of their own, so they can sit in a middle network namespace (see
 * netns.ts): `node --import tsx testkit/relay-process.ts BIND_ADDRESS UPSTREAM_URL SEED`. It prints
 * `proxy <url>` once listening, then takes one JSON command per line on stdin and answers one JSON line each:
 *   {"op":"impair","key":"A->B","impairment":{"loss":0.03,"jitterMs":30}}  ->  {"ok":true}
 *   {"op":"stats","key":"A->B"}                                          ->  {"ok":true,"stats":{...}}
 */
import { createInterface } from 'node:readline';
import { UdpRelay, type Impairment } from './udp-relay';
import { SignallingProxy } from './signalling-proxy';

async function main(): Promise<void> {
  const [bind, upstream, seed] = process.argv.slice(2);
  if (!bind || !upstream) throw new Error('usage: relay-process.ts BIND_ADDRESS UPSTREAM_URL [SEED]');
  const relay = new UdpRelay(Number(seed ?? 1), {}, bind);
  const proxy = await SignallingProxy.start(upstream, relay, bind);
  process.stdout.write(`proxy ${proxy.url}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    const cmd = JSON.parse(line) as { op: string; key: string; impairment?: Impairment };
    if (cmd.op === 'impair') relay.setImpairment(cmd.key, cmd.impairment ?? {});
    process.stdout.write(`${JSON.stringify(cmd.op === 'stats' ? { ok: true, stats: relay.stats(cmd.key) } : { ok: true })}\n`);
  }
  relay.close();
  await proxy.close();
}

main().catch((e: Error) => {
  process.stderr.write(`relay-process: ${e.message}\n`);
  process.exit(1);
});
