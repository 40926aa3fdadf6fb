/**
 * One line carried by two Janus servers in two network namespaces (two sites on a switch, testkit/netns.ts),
 * joined by VideoRoom remote publishers (RTP forwarded from site 1 to site 2): what the second hop adds, measured by
 * janus-cascade-probe.ts from the switch's namespace, which reaches both. See docs/janus-cascade.md.
 */
import { once } from 'node:events';
import path from 'node:path';
import { NetLab } from '../../testkit/netns';
import { startJanus } from '../../testkit/janus';

export interface JanusCascadeResult {
  sent: number;
  near_received: number;
  far_received: number;
  near_ms: number;
  far_ms: number;
  added_hop_ms: number;
  added_hop_p95_ms: number;
}

export async function runJanusCascade(log: (l: string) => void = (l) => console.log(l)): Promise<JanusCascadeResult> {
  const lab = await NetLab.create(['site1', 'site2']);
  const site1 = lab.host('site1');
  const site2 = lab.host('site2');
  const j1 = await startJanus({ prefix: ['ip', 'netns', 'exec', site1.ns], host: site1.address, iceInterface: 'eth0' });
  const j2 = await startJanus({ prefix: ['ip', 'netns', 'exec', site2.ns], host: site2.address, iceInterface: 'eth0' });
  try {
    const probe = lab.spawnIn('mid', process.execPath, ['--import', 'tsx', path.join(__dirname, 'janus-cascade-probe.ts'), j1.url, j1.adminKey, j2.url, j2.adminKey, site2.address], {
      cwd: path.join(__dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    probe.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    probe.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = (await once(probe, 'exit')) as [number | null];
    const last = out.trim().split('\n').pop() ?? '';
    if (code !== 0) throw new Error(`cascade probe failed (${code}): ${out.slice(-2000)}\nsite1 janus: ${j1.log().slice(-1500)}\nsite2 janus: ${j2.log().slice(-1500)}`);
    const result = JSON.parse(last) as JanusCascadeResult;
    log(
      `two sites: talker on site 1 heard on site 1 after ${result.near_ms} ms, on site 2 after ${result.far_ms} ms ` +
        `(second Janus hop adds ${result.added_hop_ms} ms median, p95 ${result.added_hop_p95_ms}; ${result.far_received}/${result.sent} packets crossed)`,
    );
    return result;
  } finally {
    await j1.stop();
    await j2.stop();
    await lab.close();
  }
}

if (require.main === module) {
  runJanusCascade().then(
    (r) => {
      console.log(JSON.stringify(r));
      process.exit(0);
    },
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
