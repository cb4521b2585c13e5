// A loopback port nobody listens on right now, for an endpoint started in a child process (the
// agent's /metrics, a test's receiver). Shared by the demo, the soak script, the bench and the tests.
import net from 'node:net';

export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}
