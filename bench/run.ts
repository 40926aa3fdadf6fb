/**
 * `npm run bench [-- NAME ...]`: runs the named benchmarks (all when none is named). Each prints its figures and its
 * own JSON summary line; the last line of the run is a JSON summary of everything that ran.
 */
type Bench = () => Promise<object> | object;

// Loaded on demand: a benchmark's dependencies (Chromium, a sound server) are only needed when it runs.
const benches: Record<string, () => Bench> = {
  latency: () => (require('./latency') as typeof import('./latency')).runLatencyBench,
  codec: () => (require('./codec') as typeof import('./codec')).runCodecBench,
  drift: () => (require('./drift') as typeof import('./drift')).runDriftBench,
  impairment: () => (require('./impairment') as { runImpairmentBench: Bench }).runImpairmentBench,
};

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  for (const n of names) if (!benches[n]) throw new Error(`unknown benchmark "${n}" (known: ${Object.keys(benches).join(', ')})`);
  const chosen = names.length ? names : Object.keys(benches);
  const results: object[] = [];
  for (const name of chosen) {
    console.log(`== ${name}`);
    let run: Bench;
    try {
      run = (benches[name] as () => Bench)();
    } catch (e) {
      console.log(`${name}: not available (${(e as Error).message})`);
      continue;
    }
    const result = await run.call(undefined);
    console.log(JSON.stringify(result));
    results.push(result);
  }
  if (chosen.length > 1) console.log(JSON.stringify({ bench: 'all', results }));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
