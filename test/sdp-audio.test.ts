// electron/engine/sdp-audio.ts: what the engine adds to a peer's SDP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withAudioPreferences } from '../electron/engine/sdp-audio';

test('SDP: a=ptime and useinbandfec=1 are added to the audio section only, once', () => {
  const sdp = [
    'v=0', 'o=- 1 1 IN IP4 0.0.0.0', 's=-', 't=0 0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=rtpmap:111 opus/48000/2', 'a=fmtp:111 minptime=10', 'a=ptime:20',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=sctp-port:5000', '',
  ].join('\r\n');
  const out = withAudioPreferences(sdp, 10);
  assert.match(out, /a=fmtp:111 minptime=10;useinbandfec=1\r\n/);
  assert.equal(out.match(/a=ptime:/g)?.length, 1);
  const audio = out.slice(out.indexOf('m=audio'), out.indexOf('m=application'));
  assert.match(audio, /a=ptime:10\r\n/);
  assert.ok(out.endsWith('\r\n'));
  assert.equal(withAudioPreferences(out, 10), out, 'idempotent');
});
