// The mDNS resolver against a responder on this machine's multicast loopback: a browser's `<uuid>.local` name
// resolves to the address its responder gives, whatever the case, and a name nobody answers is an error naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import * as dnsPacket from 'dns-packet';
import { MdnsResolver, MdnsResolutionError } from '../electron/engine/mdns-resolver';

/** Answers A queries for `names` to the group, as a browser's responder does. */
async function responder(names: Record<string, string>): Promise<dgram.Socket> {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  socket.on('message', (msg) => {
    const query = dnsPacket.decode(msg);
    if (query.type !== 'query') return;
    for (const q of query.questions ?? []) {
      const address = names[q.name.toLowerCase()];
      if (!address || q.type !== 'A') continue;
      const answer = dnsPacket.encode({
        type: 'response',
        id: 0,
        flags: dnsPacket.AUTHORITATIVE_ANSWER,
        answers: [{ type: 'A', class: 'IN', name: q.name.toUpperCase(), ttl: 120, flush: true, data: address }],
      });
      socket.send(answer, 5353, '224.0.0.251');
    }
  });
  await new Promise<void>((resolve) => socket.bind(5353, resolve));
  socket.addMembership('224.0.0.251');
  socket.setMulticastLoopback(true);
  return socket;
}

test('a .local name resolves to the address its responder gives; an unanswered one fails naming it', async () => {
  const answering = await responder({ '2f1c9a7e-5b0d-4c1e-9f3a-1d2b3c4d5e6f.local': '10.20.30.40' });
  const resolver = new MdnsResolver({ timeoutMs: 1500, retryMs: 300 });
  try {
    assert.equal(await resolver.resolve('2F1C9A7E-5B0D-4C1E-9F3A-1D2B3C4D5E6F.local'), '10.20.30.40');
    await assert.rejects(
      resolver.resolve('nobody-home.local'),
      (e: unknown) =>
        e instanceof MdnsResolutionError &&
        e.host === 'nobody-home.local' &&
        /no answer within 1500 ms/.test(e.message),
    );
    await assert.rejects(resolver.resolve('example.com'), /not a \.local name/);
  } finally {
    await resolver.close();
    answering.close();
  }
});
