import { useEffect, useRef } from 'react';
import type { StationModel } from '../model';
import { type MeterChannel, MeterBoard } from './meter-board';

/** A canvas of meters; React renders it once per channel-set change, the board draws every frame. */
export function MeterCanvas({ model, channels, label }: { model: StationModel; channels: MeterChannel[]; label: string }) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const boardRef = useRef<MeterBoard | null>(null);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const board = new MeterBoard(canvas);
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
  }, [model]);

  const channelKey = JSON.stringify(channels);
  useEffect(() => {
    boardRef.current?.setChannels(JSON.parse(channelKey) as MeterChannel[]);
  }, [channelKey]);

  return <canvas ref={canvasRef} className="meter-canvas" role="img" aria-label={label} data-channels={channels.map((c) => c.key).join(' ')} />;
}
