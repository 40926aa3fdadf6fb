/** The guest's microphone and its meter. */
export interface VoiceProcessing {
  echoCancellation: boolean;
  noiseSuppression: boolean;
  autoGainControl: boolean;
}

export const GUEST_PROCESSING: VoiceProcessing = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

export class Microphone {
  private readonly analyser: AnalyserNode;
  private readonly samples: Float32Array<ArrayBuffer>;

  private constructor(
    readonly stream: MediaStream,
    readonly audio: AudioContext,
  ) {
    this.analyser = audio.createAnalyser();
    this.analyser.fftSize = 1024;
    this.samples = new Float32Array(this.analyser.fftSize);
    audio.createMediaStreamSource(stream).connect(this.analyser);
  }

  static async open(processing: VoiceProcessing): Promise<Microphone> {
    if (!navigator.mediaDevices?.getUserMedia) throw new Error('this page needs a secure context (https, or http://127.0.0.1) to use the microphone');
    const stream = await navigator.mediaDevices.getUserMedia({ audio: { ...processing, channelCount: 1 }, video: false });
    const audio = new AudioContext({ latencyHint: 'interactive' });
    await audio.resume();
    return new Microphone(stream, audio);
  }

  get track(): MediaStreamTrack {
    const t = this.stream.getAudioTracks()[0];
    if (!t) throw new Error('the microphone gave no audio track');
    return t;
  }

  /** RMS of the latest analyser window, in dBFS (floor -90). */
  levelDb(): number {
    this.analyser.getFloatTimeDomainData(this.samples);
    let sum = 0;
    for (const v of this.samples) sum += v * v;
    const rms = Math.sqrt(sum / this.samples.length);
    return rms > 0 ? Math.max(-90, 20 * Math.log10(rms)) : -90;
  }

  close(): void {
    for (const t of this.stream.getTracks()) t.stop();
    void this.audio.close();
  }
}
