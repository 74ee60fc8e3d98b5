// WebSocket load: N connections through the proxy, each sending one message and waiting for its echo
// before sending the next, for a fixed time. Prints one JSON line:
// {"messages","seconds","p50Ms","p99Ms","errors"}. argv: url connections seconds messageBytes
import { WebSocket } from 'ws';

const [url, connections, seconds, size] = [
  process.argv[2],
  Number(process.argv[3]),
  Number(process.argv[4]),
  Number(process.argv[5]),
];
const payload = Buffer.alloc(size, 'x');
const latencies = [];
let messages = 0;
let errors = 0;
let open = 0;
let startAt = 0;
let deadline = Infinity;
const sockets = [];

function begin() {
  startAt = performance.now();
  deadline = startAt + seconds * 1000;
  for (const ws of sockets) if (ws.readyState === WebSocket.OPEN) send(ws);
  setTimeout(finish, seconds * 1000 + 50);
}

function send(ws) {
  ws.sentAt = performance.now();
  ws.send(payload);
}

function finish() {
  const elapsed = (performance.now() - startAt) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) =>
    latencies.length
      ? latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))]
      : null;
  process.stdout.write(
    JSON.stringify({ messages, seconds: elapsed, p50Ms: pct(50), p99Ms: pct(99), errors }) + '\n',
  );
  process.exit(0);
}

for (let i = 0; i < connections; i++) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  sockets.push(ws);
  ws.on('open', () => {
    if (++open === connections) begin();
  });
  ws.on('message', () => {
    const now = performance.now();
    if (now > deadline) return;
    messages++;
    latencies.push(now - ws.sentAt);
    send(ws);
  });
  ws.on('error', () => errors++);
}
// Never wait for ever on connections that do not open.
setTimeout(() => {
  if (startAt === 0) {
    errors += connections - open;
    if (open > 0) begin();
    else finish();
  }
}, 10000);
process.on('SIGTERM', () => process.exit(0));
