/**
 * The SRTP receiver's packet index (RFC 3711 §3.3.1): the rollover counter (ROC) a packet's 16-bit sequence number
 * belongs to, guessed from the highest sequence number authenticated so far (s_l). Any jump of up to half the
 * sequence space is placed right, so a loss burst across the wrap does not desynchronise the receiver.
 */
export interface IndexState {
  roc: number;
  /** s_l: the highest sequence number authenticated with `roc`. */
  lastSeq: number;
}

const HALF = 0x8000;

/** The ROC to authenticate `seq` with, and the state to keep once it has authenticated. */
export function packetIndex(state: IndexState | undefined, seq: number): { roc: number; next: IndexState } {
  if (!state) return { roc: 0, next: { roc: 0, lastSeq: seq } };
  const { roc, lastSeq } = state;
  let v = roc;
  if (lastSeq < HALF) {
    if (seq - lastSeq > HALF) v = roc - 1;
  } else if (lastSeq - HALF > seq) {
    v = roc + 1;
  }
  // A packet from before the stream's first wrap has no earlier ROC: it can only fail authentication.
  if (v < 0) return { roc: 0, next: state };
  if (v > roc) return { roc: v, next: { roc: v, lastSeq: seq } };
  if (v === roc && seq > lastSeq) return { roc, next: { roc, lastSeq: seq } };
  return { roc: v, next: state };
}
