/**
 * werift's one-time costs, paid when the media thread starts rather than at its first call: the DTLS certificate
 * (built in JavaScript) and the P-256 base-point tables of @noble/curves, which werift's first ECDHE key pair builds.
 * Paid at the first call instead, they stall this thread for as long as they take (the devices starve meanwhile), and a
 * station on air on one line hears that whenever its first call on another begins.
 */
import { RTCDtlsTransport } from 'werift';

export async function warmUpWebrtc(): Promise<{ ms: number }> {
  const started = performance.now();
  // require, as werift does: an import would load (and bundle) the ESM copy, whose tables werift never sees.
  const { p256 } = require('@noble/curves/p256') as typeof import('@noble/curves/p256');
  p256.getPublicKey(p256.utils.randomPrivateKey(), false);
  await RTCDtlsTransport.SetupCertificate();
  return { ms: performance.now() - started };
}
