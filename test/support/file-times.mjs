// Wall time per test file, from its first reported event to its last, for the run's closing summary: the suite has
// a time budget (README, "Tests"), and this shows where it goes. With files run one at a time, a file's time includes
// its own hooks (sound servers, browsers, namespaces) but not the start of its process.
const SHOWN = 15;

export class FileTimes {
  #files = new Map();

  note(event) {
    const file = event.data?.file;
    // Every file is enqueued when the run starts: its time starts when it is taken from the queue.
    if (!file || event.type === 'test:enqueue') return;
    const now = performance.now();
    const span = this.#files.get(file);
    if (span) span.last = now;
    else this.#files.set(file, { first: now, last: now });
  }

  /** The longest files first, as comment lines; none if no file reported. */
  lines() {
    const spans = [...this.#files].map(([file, s]) => ({
      file: file.replace(/^.*\/(test\/[^/]+)$/, '$1'),
      s: (s.last - s.first) / 1000,
    }));
    if (spans.length === 0) return [];
    spans.sort((a, b) => b.s - a.s);
    const total = spans.reduce((sum, x) => sum + x.s, 0);
    const shown = Math.min(SHOWN, spans.length);
    const out = [
      `# ---- time per test file: ${spans.length} files, ${total.toFixed(0)} s in all; the ${shown} longest ----`,
    ];
    for (const { file, s } of spans.slice(0, shown)) out.push(`# ${s.toFixed(1).padStart(7)} s  ${file}`);
    return out;
  }
}
