/**
 * `npm run bench [-- NAME ...] [--minutes N] [--quick] [--chunk-ms 5|10]`: runs the named benchmarks (all when none is named). Each prints its
 * figures and its own JSON summary line; the last line of the run is a JSON summary of everything that ran. Flags
 * go to the benchmarks that take them.
 */
export interface BenchOptions {
  /** How long each profile of a long-running benchmark measures (glitches). */
  minutes?: number;
  /** A short smoke run of a benchmark that supports one (scale). */
  quick?: boolean;
  /** Device chunks and Opus frames of the stations, ms (latency): 10 by default, 5 to measure the opt-in. */
  chunkMs?: 5 | 10;
}

type Bench = (options: BenchOptions) => Promise<object> | object;

// Loaded on demand: a benchmark's dependencies (Chromium, a sound server) are only needed when it runs. Each entry
// passes on only the options its benchmark understands.
const benches: Record<string, () => Bench> = {
  latency: () => {
    const { runLatencyBench } = require('./latency') as typeof import('./latency');
    return (o) => runLatencyBench(o.chunkMs === undefined ? {} : { chunkMs: o.chunkMs });
  },
  codec: () => {
    const { runCodecBench } = require('./codec') as typeof import('./codec');
    return () => runCodecBench();
  },
  drift: () => {
    const { runDriftBench } = require('./drift') as typeof import('./drift');
    return () => runDriftBench();
  },
  impairment: () => {
    const { runImpairmentBench } = require('./impairment') as { runImpairmentBench: () => Promise<object> };
    return () => runImpairmentBench();
  },
  faults: () => {
    const { runFaultsBench } = require('./faults') as typeof import('./faults');
    return () => runFaultsBench();
  },
  glitches: () => {
    const { runGlitchesBench } = require('./glitches') as typeof import('./glitches');
    return (o) => runGlitchesBench(o.minutes === undefined ? {} : { minutes: o.minutes });
  },
  scale: () => {
    const { runScaleBench } = require('./scale') as typeof import('./scale');
    return (o) => runScaleBench({ quick: o.quick === true });
  },
};

/** Which benchmarks read each flag: a flag none of the chosen ones reads is a mistake worth stopping for. */
const flags: Record<keyof BenchOptions, string[]> = { minutes: ['glitches'], quick: ['scale'], chunkMs: ['latency'] };
const flagNames: Record<keyof BenchOptions, string> = { minutes: 'minutes', quick: 'quick', chunkMs: 'chunk-ms' };

function parseBenchArgs(argv: string[]): { names: string[]; options: BenchOptions } {
  const names: string[] = [];
  const options: BenchOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) {
      if (!benches[arg]) throw new Error(`unknown benchmark "${arg}" (known: ${Object.keys(benches).join(', ')})`);
      names.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = arg.slice(2, eq < 0 ? undefined : eq);
    if (flag === 'quick') {
      if (eq >= 0) throw new Error('--quick takes no value');
      options.quick = true;
      continue;
    }
    const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    if (flag === 'chunk-ms') {
      if (value !== '5' && value !== '10') throw new Error(`--chunk-ms: "${value ?? ''}" must be 5 or 10`);
      options.chunkMs = Number(value) as 5 | 10;
      continue;
    }
    if (flag !== 'minutes') throw new Error(`unknown flag "--${flag}" (known: ${Object.values(flagNames).map((f) => `--${f}`).join(', ')})`);
    const minutes = Number(value);
    if (value === undefined || value === '' || !Number.isFinite(minutes) || minutes <= 0) throw new Error(`--minutes: "${value ?? ''}" must be a positive number`);
    options.minutes = minutes;
  }
  const chosen = names.length ? names : Object.keys(benches);
  for (const flag of Object.keys(options) as (keyof BenchOptions)[]) {
    if (!chosen.some((n) => flags[flag].includes(n))) throw new Error(`--${flagNames[flag]} applies to ${flags[flag].join(', ')}, which is not among the chosen benchmarks`);
  }
  return { names: chosen, options };
}

async function main(): Promise<void> {
  const { names: chosen, options } = parseBenchArgs(process.argv.slice(2));
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
    const result = await run(options);
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
