/**
 * `npm run bench -- scale [--quick]`: how far a line goes. The mesh part puts N real stations on one line until
 * gaps appear or the machine saturates (mesh.ts), then one talking station against 8 to 100 synthetic listeners:
 * what a talker pays per listener when every member has a machine of its own (mesh-talker.ts). The control-plane
 * part measures the signalling server's cost per join at 64 and 256 members (control-plane.ts); the Janus part puts
 * 64 members on one Janus-carried line (janus.ts).
 */
import { runJanusScaleBench, type JanusScaleResult } from './janus';
import { loadAverage } from './proc-usage';
import { measureControlPlane, type ControlPlaneResult } from './control-plane';
import { measureMesh, type MeshPoint } from './mesh';
import { measureMeshTalker } from './mesh-talker';

export interface ScaleOptions {
  /** A smoke run: N = 2 and 4, short phases, small control-plane sizes. */
  quick?: boolean;
  log?: (line: string) => void;
}

export interface ScaleResult {
  bench: 'scale';
  mesh_max_members: number;
  rss_mb_8_peers: number | null;
  points: MeshPoint[];
  janus_members: number | null;
  janus_added_latency_ms: number | null;
  janus_cpu_pct_per_member: number | null;
  [extra: string]: unknown;
}

export async function runScaleBench(options: ScaleOptions = {}): Promise<ScaleResult> {
  const log = options.log ?? ((l: string) => console.log(l));
  const quick = options.quick ?? false;
  log(`load before: ${loadAverage()} (1/5/15 min), ${require('node:os').cpus().length} CPUs`);
  log(
    'mesh: every station is its own `npm run station` process (engine, media thread, one werift peer per other station, ' +
      'its own sound-server streams), as on a crew member\'s machine; they share this machine\'s CPUs and one sound server, ' +
      'so CPU/station is what each costs and the machine saturating marks where one-machine figures stop saying anything.',
  );
  const mesh = await measureMesh({ sizes: quick ? [2, 4] : [2, 4, 8, 16, 24, 32], halfSeconds: quick ? 4 : 6, bursts: quick ? 3 : 6, log });
  const talker = await measureMeshTalker({ sizes: quick ? [4, 8] : [8, 16, 32, 64, 100], seconds: quick ? 5 : 15, log });
  const cp: ControlPlaneResult = await measureControlPlane({ sizes: quick ? [16, 64] : [64, 256], burst: quick ? 64 : 256, log });
  let janus: JanusScaleResult | null = null;
  try {
    janus = await runJanusScaleBench({ members: quick ? 16 : 64, bursts: quick ? 3 : 6, log });
  } catch (e) {
    log(`janus: not measured (${(e as Error).message})`);
  }
  log(`load after: ${loadAverage()} (1/5/15 min)`);
  const at8 = mesh.points.find((p) => p.n === 8);
  const join = (members: number, form: 'delta' | 'full') => cp.joins.find((j) => j.members === members && j.form === form);
  const extra: Record<string, unknown> = {
    mesh_max_members_steady: mesh.meshMaxMembersSteady,
    mesh_stopped_because: mesh.stoppedBecause,
    mesh_talker_points: talker.points,
    mesh_talker_pct_per_listener: talker.talker_pct_per_listener,
    mesh_talker_network_thread_pct_per_listener: talker.network_thread_pct_per_listener,
    mesh_talker_network_thread_full_core_at: talker.network_thread_full_core_at,
  };
  for (const members of quick ? [16, 64] : [64, 256]) {
    const delta = join(members, 'delta');
    const full = join(members, 'full');
    extra[`signal_bytes_per_join_${members}`] = delta?.bytesPerJoin ?? null;
    extra[`signal_cpu_ms_per_join_${members}`] = delta ? Math.round(delta.cpuMsPerJoin * 100) / 100 : null;
    extra[`signal_bytes_per_join_${members}_full_lists`] = full?.bytesPerJoin ?? null;
    extra[`signal_cpu_ms_per_join_${members}_full_lists`] = full ? Math.round(full.cpuMsPerJoin * 100) / 100 : null;
  }
  for (const b of cp.bursts) {
    const key = `signal_burst_${b.members}_${b.form === 'delta' ? 'deltas' : 'full_lists'}`;
    extra[key] = { mib: Math.round((b.totalBytes / 1048576) * 100) / 100, cpu_ms: Math.round(b.cpuMs), max_stall_ms: Math.round(b.maxStallMs) };
  }
  return {
    mesh_max_members: mesh.meshMaxMembers,
    rss_mb_8_peers: at8 ? at8.rss_mb_per_station : null,
    points: mesh.points,
    ...extra,
    ...(janus ? Object.fromEntries(Object.entries(janus).filter(([k]) => k !== 'bench')) : {}),
    janus_members: janus?.janus_members ?? null,
    janus_added_latency_ms: janus?.janus_added_latency_ms ?? null,
    janus_cpu_pct_per_member: janus?.janus_cpu_pct_per_member ?? null,
    bench: 'scale',
  };
}
