import { useEffect, useRef } from 'react';
import type { StationModel } from '../model';
import { METER_FLOOR_DB } from '../../../electron/common/contract';
import { type MeterChannel, MeterBoard, SCALE_MAX_DB, SCALE_MIN_DB } from './meter-board';

/** A canvas of meters; React renders it once per channel-set change, the board draws every frame. */
export function MeterCanvas({ model, channels, label, labelWidth }: { model: StationModel; channels: MeterChannel[]; label: string; labelWidth?: number }) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const boardRef = useRef<MeterBoard | null>(null);
  const readoutsRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const board = new MeterBoard(canvas, readoutsRef.current, labelWidth);
    boardRef.current = board;
    const stopMeters = model.link.api.on('meters', (frame) => board.push(frame));
    const observer = new ResizeObserver(() => board.resize());
    observer.observe(canvas);
    board.start();
    return () => {
      board.stop();
      observer.disconnect();
      stopMeters();
      boardRef.current = null;
    };
  }, [model, labelWidth]);

  const channelKey = JSON.stringify(channels);
  useEffect(() => {
    boardRef.current?.setChannels(JSON.parse(channelKey) as MeterChannel[]);
  }, [channelKey]);

  return (
    <div className="meter-group">
      <canvas ref={canvasRef} className="meter-canvas" role="img" aria-label={label} data-channels={channels.map((c) => c.key).join(' ')} />
      <div ref={readoutsRef} className="visually-hidden">
        {channels.map((channel) => (
          <div
            key={channel.key}
            role="meter"
            data-meter={channel.key}
            aria-label={`${channel.label} level`}
            aria-valuemin={SCALE_MIN_DB}
            aria-valuemax={SCALE_MAX_DB}
            aria-valuenow={SCALE_MIN_DB}
            data-peak-db={METER_FLOOR_DB.toFixed(1)}
            data-rms-db={METER_FLOOR_DB.toFixed(1)}
          />
        ))}
      </div>
    </div>
  );
}
