// The tray icon is drawn in code (a filled ring in the app's accent colour) so the shell ships no binary assets.

/** Raw BGRA pixels for nativeImage.createFromBitmap. */
export function trayIconBitmap(size = 32): { buffer: Buffer; width: number; height: number } {
  const buffer = Buffer.alloc(size * size * 4);
  const centre = (size - 1) / 2;
  const outer = size / 2 - 1;
  const inner = outer * 0.45;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const distance = Math.hypot(x - centre, y - centre);
      const offset = (y * size + x) * 4;
      const alpha = Math.max(0, Math.min(1, outer - distance + 0.5)) * (distance < inner ? 0.35 : 1);
      buffer[offset] = 0x4a; // B
      buffer[offset + 1] = 0xd0; // G
      buffer[offset + 2] = 0x7f; // R
      buffer[offset + 3] = Math.round(alpha * 255);
    }
  }
  return { buffer, width: size, height: size };
}
