/**
 * SDP edits werift does not make itself. It writes no `a=ptime`, so a browser would send its default 20 ms frames;
 * we ask for our frame size, and for Opus in-band FEC, in every audio section.
 */
export function withAudioPreferences(sdp: string, frameMs: number): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(/\r?\n/);
  const out: string[] = [];
  let inAudio = false;
  let opusPt: string | undefined;
  for (const line of lines) {
    if (line.startsWith('m=')) {
      if (inAudio && opusPt) out.push(`a=ptime:${frameMs}`);
      inAudio = line.startsWith('m=audio');
      opusPt = undefined;
    }
    if (inAudio && line.startsWith('a=ptime:')) continue;
    if (inAudio) {
      const rtpmap = /^a=rtpmap:(\d+) opus\/48000/i.exec(line);
      if (rtpmap) opusPt = rtpmap[1];
      const fmtp = /^a=fmtp:(\d+) (.*)$/.exec(line);
      if (fmtp && fmtp[1] === opusPt && !/useinbandfec=1/.test(fmtp[2] ?? '')) {
        out.push(`${line};useinbandfec=1`);
        continue;
      }
    }
    out.push(line);
  }
  if (inAudio && opusPt) {
    // keep the trailing empty line (SDP ends with CRLF) after our attribute
    const last = out.length && out[out.length - 1] === '' ? out.pop() : undefined;
    out.push(`a=ptime:${frameMs}`);
    if (last !== undefined) out.push(last);
  }
  return out.join(eol);
}

/** The id the session negotiated for an RTP header extension (both sides of a BUNDLE share one id), if any. */
export function extensionId(sdp: string, uri: string): number | undefined {
  const escaped = uri.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^a=extmap:(\\d+)(?:/\\w+)? ${escaped}\\s*$`, 'm').exec(sdp);
  return m ? Number(m[1]) : undefined;
}
