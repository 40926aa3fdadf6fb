import { PulseHarness, type PulseExtras } from '../../testkit/pulse';

/**
 * The latency rig: one stereo null sink `rig` whose LEFT channel is the talker's microphone (we inject into it) and
 * whose RIGHT channel is the listener's speaker. A recording of `rig.monitor` therefore holds the reference and the
 * far end in one stream, on one clock, with nothing in between that could add its own, drifting delay.
 */
export const RIG: PulseExtras = {
  script: [
    'load-module module-null-sink sink_name=rig rate=48000 channels=2 channel_map=front-left,front-right',
    'load-module module-remap-source source_name=rig_mic master=rig.monitor channels=1 master_channel_map=front-left channel_map=mono remix=no',
    'load-module module-remap-sink sink_name=rig_far master=rig channels=1 master_channel_map=front-right channel_map=mono remix=no',
  ],
  pcms: [
    'pcm.partyline_rig_mic { type pulse; device "rig_mic"; hint { show on; description "Latency rig microphone (left)" } }',
    'pcm.partyline_rig_far { type pulse; device "rig_far"; hint { show on; description "Latency rig far-end speaker (right)" } }',
  ],
  pinSinks: ['rig'],
};

/** The rig as stations open it: on the sound server's native protocol (see native/bridge/devices.ts). */
export const RIG_MIC_ID = 'PulseAudio:rig_mic#0';
export const RIG_FAR_ID = 'PulseAudio:rig_far#0';
/** The same two channels through PortAudio and ALSA's pulse plugin, for the bridge floor on that path. */
export const RIG_MIC_ALSA_ID = 'ALSA:partyline_rig_mic#0';
export const RIG_FAR_ALSA_ID = 'ALSA:partyline_rig_far#0';

export async function startRig(stations: string[]): Promise<PulseHarness> {
  return PulseHarness.start(stations, RIG);
}

/** Records the rig while the burst train plays into its left channel; returns the interleaved stereo recording. */
export async function recordRig(pulse: PulseHarness, pcm: Int16Array, tailMs = 600): Promise<Int16Array> {
  const rec = pulse.record('rig.monitor', 2);
  await new Promise((r) => setTimeout(r, 300));
  await pulse.inject('rig', pcm, 'front-left').done;
  await new Promise((r) => setTimeout(r, tailMs));
  return rec.stop();
}
