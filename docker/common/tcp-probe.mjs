// The health checks' probe: exit 0 when 127.0.0.1:port accepts a TCP connection within 3 s.
import { connect } from 'node:net';

export function probe(port) {
  const socket = connect({ host: '127.0.0.1', port, timeout: 3000 });
  socket.on('connect', () => {
    socket.destroy();
    process.exit(0);
  });
  socket.on('timeout', () => {
    process.stderr.write(`healthcheck: no answer on port ${port} within 3 s\n`);
    process.exit(1);
  });
  socket.on('error', (err) => {
    process.stderr.write(`healthcheck: port ${port}: ${err.code ?? err.message}\n`);
    process.exit(1);
  });
}
