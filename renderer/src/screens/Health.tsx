import type { PeerHealth } from '../../../electron/common/contract';
import { type StationModel, useSnapshot } from '../model';

/** Why a link needs attention, or null when it is fine. Thresholds are where voice starts to suffer. */
export function degradation(peer: PeerHealth): string | null {
  if (peer.connection !== 'connected') return peer.connection === 'no-rtp' ? 'no audio arriving' : peer.connection;
  if (peer.lossRate > 0.02) return 'packet loss';
  if (peer.jitterMs > 30) return 'high jitter';
  if (peer.rttMs !== null && peer.rttMs > 250) return 'high round-trip';
  if (peer.playoutDelayMs > peer.targetDelayMs * 2 + 20) return 'playout delay high';
  return null;
}

const ms = (value: number | null) => (value === null ? '—' : `${value.toFixed(0)} ms`);

export function Health({ model }: { model: StationModel }) {
  const { health, speaker } = useSnapshot(model);
  return (
    <section aria-labelledby="health-title" className="panel">
      <h2 id="health-title">Health</h2>
      {speaker ? (
        <p className="speaker-margin" data-testid="speaker-margin">
          Speaker margin <strong>{ms(speaker.marginMs)}</strong>{' '}
          <span title="The deepest drain between two refills of the speaker's queue: what the device asks for at once plus how late this machine schedules the media thread">
            (covers {ms(speaker.drainMs)} of device requests and scheduling jitter)
          </span>
          , {speaker.underruns} underrun{speaker.underruns === 1 ? '' : 's'}
          {speaker.deviceUnderflows > 0 ? ` (${speaker.deviceUnderflows} in the device)` : ''}
          {speaker.deviceBufferMs !== null ? `; the device buffers ${ms(speaker.deviceBufferMs)} more` : ''}
        </p>
      ) : null}
      {health.length === 0 ? (
        <p className="empty">No remote stations.</p>
      ) : (
        <div className="table-scroll" role="region" aria-label="Link health per station" tabIndex={0}>
          <table className="health">
            <thead>
              <tr>
                <th scope="col">Station</th>
                <th scope="col">State</th>
                <th scope="col">RTT</th>
                <th scope="col">Jitter</th>
                <th scope="col">Loss</th>
                <th scope="col">Playout / target</th>
                <th scope="col">Concealed</th>
              </tr>
            </thead>
            <tbody>
              {health.map((peer) => {
                const problem = degradation(peer);
                return (
                  <tr key={peer.stationId} className={problem ? 'degraded' : 'healthy'} data-station={peer.stationId}>
                    <th scope="row">{peer.name}</th>
                    <td>
                      <span className="state-label">{peer.connection}</span>
                      {problem ? <span className="warning-tag">⚠ {problem}</span> : null}
                    </td>
                    <td>{ms(peer.rttMs)}</td>
                    <td>{ms(peer.jitterMs)}</td>
                    <td>{(peer.lossRate * 100).toFixed(1)}%</td>
                    <td>
                      {ms(peer.playoutDelayMs)} / {ms(peer.targetDelayMs)}
                      {peer.lowLatency ? (
                        <>
                          {' '}
                          <span className="info-tag" title="Packets land well before each pull: each plays at the next one, no frame held back">
                            low latency
                          </span>
                        </>
                      ) : null}
                    </td>
                    <td>{peer.concealedFrames}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
