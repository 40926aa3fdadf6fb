/**
 * werift's SRTP receiver counts a rollover only when the sequence number steps from the last 100 before 2^16 to the
 * first 100 after it. A loss burst of more than 100 packets across the wrap (a one-second network cut at 10 ms
 * frames) leaves its ROC one behind, every later packet fails authentication, and that direction of the call stays
 * silent until the call is set up anew. This puts RFC 3711's index estimation in its place, on whichever copy of
 * werift this build loads (the bundled media thread has its own).
 */
import { ProtectionProfileAes128CmHmacSha1_80, SrtpSession } from 'werift';
import { packetIndex, type IndexState } from './packet-index';

interface WeriftSsrcState {
  ssrc: number;
  rolloverCounter: number;
  lastSequenceNumber: number;
  rolloverHasProcessed?: boolean;
}

interface WeriftSrtpContext {
  srtpSSRCStates: Record<number, WeriftSsrcState>;
  cipher: { decryptRtp(cipherText: Buffer, rolloverCounter: number): [Buffer, unknown] };
  decryptRtp(cipherText: Buffer): [Buffer, unknown];
}

let installed = false;

export function installSrtpIndexEstimation(): void {
  if (installed) return;
  const keys = { localMasterKey: Buffer.alloc(16), localMasterSalt: Buffer.alloc(14), remoteMasterKey: Buffer.alloc(16), remoteMasterSalt: Buffer.alloc(14) };
  const probe = new SrtpSession({ profile: ProtectionProfileAes128CmHmacSha1_80, keys });
  const context = (probe as unknown as { remoteContext: WeriftSrtpContext }).remoteContext;
  const proto = Object.getPrototypeOf(context) as WeriftSrtpContext;
  if (typeof proto.decryptRtp !== 'function' || typeof context.cipher?.decryptRtp !== 'function' || typeof context.srtpSSRCStates !== 'object') {
    throw new Error('werift: its SRTP receiver context changed shape; packet-index estimation cannot be installed');
  }
  proto.decryptRtp = function (this: WeriftSrtpContext, cipherText: Buffer): [Buffer, unknown] {
    const seq = cipherText.readUInt16BE(2);
    const ssrc = cipherText.readUInt32BE(8);
    const known = this.srtpSSRCStates[ssrc];
    const state: IndexState | undefined = known?.rolloverHasProcessed ? { roc: known.rolloverCounter, lastSeq: known.lastSequenceNumber } : undefined;
    const { roc, next } = packetIndex(state, seq);
    const decrypted = this.cipher.decryptRtp(cipherText, roc); // throws on a failed authentication: state unchanged
    // Updated in place: this runs for every packet on the media thread.
    if (known) {
      known.rolloverCounter = next.roc;
      known.lastSequenceNumber = next.lastSeq;
      known.rolloverHasProcessed = true;
    } else {
      this.srtpSSRCStates[ssrc] = { ssrc, rolloverCounter: next.roc, lastSequenceNumber: next.lastSeq, rolloverHasProcessed: true };
    }
    return decrypted;
  };
  installed = true;
}
