import { createServer } from 'node:net';

/** A TCP port free on `host` right now (the OS picks it), for a server a test starts on a port of its choosing. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
