import type { PeerConnection } from '../../common/contract';

/** Where our side of a peer's offer/answer exchange stands. */
export type Negotiation = 'new' | 'offering' | 'stable';

/**
 * What to do with an offer from `from`:
 * - 'accept': answer it on the peer we have (or a new one);
 * - 'restart': a fresh peer first, then answer: the remote restarted (we had negotiated and it offers anew), or both
 *   offered at once and we are the side that yields;
 * - 'ignore': both offered at once and we keep ours; the remote yields and answers it.
 * Both sides decide alike from the ids alone: the lower id keeps its offer.
 */
export function onRemoteOffer(ourId: string, from: string, ours: { negotiation: Negotiation; connection: PeerConnection } | undefined): 'accept' | 'restart' | 'ignore' {
  if (!ours) return 'accept';
  if (ours.negotiation === 'offering') return ourId < from ? 'ignore' : 'restart';
  if (ours.negotiation === 'stable' && ours.connection !== 'new') return 'restart';
  return 'accept';
}
