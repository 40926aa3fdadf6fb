import type { PeerConnection } from '../../common/contract';
import type { Negotiation } from './glare';

/**
 * Keeping calls up across signalling outages and repairing the ones that broke.
 *
 * Signalling only sets a call up: once ICE and DTLS are up, RTP flows without the server. So a peer missing from a
 * presence list (the server restarted and the peer is not back yet, or the server dropped its socket during a network
 * cut) keeps its call while the call is live; werift expires ICE consent after 30 s without an answer, which is what
 * finally ends a call whose other end is really gone.
 *
 * A call that is not live when both ends can reach each other through signalling again is set up anew, and both ends
 * agree who offers, from what each of them sees alone:
 * - the newcomer (the side that got `joined` listing the other) offers, as for a first call;
 * - a call that failed while both stay joined is re-offered by the lower station id (the side glare lets keep its
 *   offer), and the higher id waits for that offer; should none come (the lower side still believes its call is up),
 *   the higher id offers after a while, and glare settles a crossing.
 */

export type Liveness = 'live' | 'negotiating' | 'dead';

/** Whether a call carries (or can carry) media now: ICE and DTLS up; `no-rtp` is up with a silent remote. */
export function liveness(connection: PeerConnection): Liveness {
  switch (connection) {
    case 'connected':
    case 'no-rtp':
      return 'live';
    case 'new':
    case 'connecting':
      return 'negotiating';
    case 'failed':
    case 'closed':
      return 'dead';
  }
}

export interface KnownCall {
  negotiation: Negotiation;
  connection: PeerConnection;
}

/** What to do with a remote a presence list no longer names (or that the server says left): a live call stays. */
export function onAbsent(call: KnownCall): 'keep' | 'drop' {
  return liveness(call.connection) === 'live' ? 'keep' : 'drop';
}

/**
 * What to do with a peer a presence list names.
 * - 'offer': a new remote, and we offer to it;
 * - 'wait': a new remote, and we wait for its offer;
 * - 'restart-offer' / 'restart-wait': the call we have is not live: a fresh peer that offers, or waits for the offer;
 * - 'keep': the call we have stays as it is.
 * `newcomer` is true for the list in our own `joined` (we are the one who arrived), false for a `presence` update.
 */
export function onListed(ourId: string, theirId: string, call: KnownCall | undefined, newcomer: boolean): 'offer' | 'wait' | 'restart-offer' | 'restart-wait' | 'keep' {
  if (!call) return newcomer ? 'offer' : 'wait';
  const live = liveness(call.connection);
  if (live === 'live') return 'keep';
  if (live === 'dead') return newcomer || offersOnRecovery(ourId, theirId) ? 'restart-offer' : 'restart-wait';
  // Negotiating: an offer of ours with no answer may have been lost with the server; an answered one is under way.
  if (newcomer && call.negotiation !== 'stable') return 'restart-offer';
  return 'keep';
}

/** Who re-offers a call that broke while both ends stay joined: the lower id, as in glare. */
export function offersOnRecovery(ourId: string, theirId: string): boolean {
  return ourId < theirId;
}

/**
 * What to do with a call that broke: `failed` (ICE consent expired, or ICE never came up), or `silent` (a remote that
 * says it talks has sent no RTP for a long while). Repaired when the peer is reachable through signalling; nothing
 * while our own signalling is down (the peer is re-listed once we rejoin). A failed call with a peer gone from
 * presence is dropped (it is set up anew when the peer is back); a silent one is kept, since a network cut that also
 * cost the peer its signalling comes back by itself when the link does. Silence is not judged either until the
 * server has answered us since the remote went quiet (`confirmed`): until then the cut may be our own link, which
 * signalling notices only at its next keepalive, and the call comes back by itself when the link does.
 */
export function onBroken(
  ourId: string,
  theirId: string,
  why: 'failed' | 'silent',
  reach: { joined: boolean; present: boolean; confirmed: boolean },
): 'restart-offer' | 'restart-wait' | 'drop' | 'hold' {
  if (!reach.present) return why === 'failed' ? 'drop' : 'hold';
  if (!reach.joined) return 'hold';
  if (why === 'silent' && !reach.confirmed) return 'hold';
  return offersOnRecovery(ourId, theirId) ? 'restart-offer' : 'restart-wait';
}
