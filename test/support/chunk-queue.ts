// The capture-to-playback loops' queue: microphone chunks in, speaker pulls of any size out.

/** Takes `n` samples off the front of `chunks` (splitting the last one taken), zero-padded when they run out. */
export function takeSamples(chunks: Int16Array[], n: number): Int16Array {
  const out = new Int16Array(n);
  for (let at = 0; at < n && chunks.length > 0; ) {
    const head = chunks[0] as Int16Array;
    const take = Math.min(n - at, head.length);
    out.set(head.subarray(0, take), at);
    at += take;
    if (take === head.length) chunks.shift();
    else chunks[0] = head.subarray(take);
  }
  return out;
}
