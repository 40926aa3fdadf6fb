/** Browser ICE candidates whose address is an mDNS name (`<uuid>.local`): finding them, and giving them an address. */

export interface CandidateLine {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

/** `candidate:<foundation> <component> <transport> <priority> <address> <port> typ ...`: the address field. */
const ADDRESS_FIELD = 4;

/** The candidate's mDNS name, or undefined when its address is an IP (or it is not a candidate line at all). */
export function mdnsHost(candidate: string): string | undefined {
  const address = candidate.trim().split(/\s+/)[ADDRESS_FIELD];
  return address && /\.local\.?$/i.test(address) ? address : undefined;
}

/** The same candidate with its mDNS name replaced by the address it resolved to. */
export function withAddress(candidate: string, address: string): string {
  const fields = candidate.trim().split(/\s+/);
  fields[ADDRESS_FIELD] = address;
  return fields.join(' ');
}

/**
 * Takes the mDNS candidates out of a description, to be resolved and added like trickled ones: left in, werift
 * would resolve them itself, and drop them silently when that fails. An m-line that loses candidates also loses its
 * `a=end-of-candidates`: more are still to come, and werift, told there are none, fails the call at once (Firefox
 * sends the marker when it has gathered before its offer is written, as on a loaded machine).
 */
export function splitMdnsCandidates(sdp: string): { sdp: string; candidates: CandidateLine[] } {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const split = splitLines(sdp);
  const stillComing = new Set(split.candidates.map((c) => c.sdpMLineIndex));
  let mLineIndex = -1;
  const kept = split.kept.filter((line) => {
    if (line.startsWith('m=')) mLineIndex++;
    return !(line.startsWith('a=end-of-candidates') && stillComing.has(mLineIndex));
  });
  return { sdp: kept.join(eol), candidates: split.candidates };
}

function splitLines(sdp: string): { kept: string[]; candidates: CandidateLine[] } {
  const kept: string[] = [];
  const candidates: CandidateLine[] = [];
  let mLineIndex = -1;
  let mid: string | null = null;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      mLineIndex++;
      mid = null;
    } else if (line.startsWith('a=mid:')) {
      mid = line.slice('a=mid:'.length);
      for (const c of candidates) if (c.sdpMLineIndex === mLineIndex) c.sdpMid = mid;
    }
    if (line.startsWith('a=candidate:') && mdnsHost(line.slice(2))) {
      candidates.push({ candidate: line.slice(2), sdpMid: mid, sdpMLineIndex: mLineIndex });
      continue;
    }
    kept.push(line);
  }
  return { kept, candidates };
}
