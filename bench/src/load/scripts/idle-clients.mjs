// Opens N keep-alive connections to a proxy, sends one GET on each and reads the response, then
// keeps them all open and idle. Prints one JSON line {"open","failed"} once every connection has
// settled, and exits by itself after `holdSeconds` (the harness kills it earlier).
// argv: port count holdSeconds path
import { connect } from 'node:net';

const [port, count, holdSeconds, path] = [
  Number(process.argv[2]),
  Number(process.argv[3]),
  Number(process.argv[4]),
  process.argv[5] ?? '/',
];
const inFlightMax = 200;
const request = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
const sockets = [];
let started = 0;
let open = 0;
let settled = 0;

function one() {
  if (started >= count) return;
  started++;
  const s = connect({ host: '127.0.0.1', port });
  let done = false;
  const settle = (ok) => {
    if (done) return;
    done = true;
    settled++;
    if (ok) open++;
    if (settled === count) report();
    else one();
  };
  s.setTimeout(5000, () => {
    settle(false);
    s.destroy();
  });
  s.on('connect', () => s.write(request));
  s.on('data', (d) => {
    if (!done && d.toString('latin1').startsWith('HTTP/1.1 200')) {
      s.setTimeout(0);
      settle(true);
    }
  });
  s.on('error', () => settle(false));
  s.on('close', () => settle(false));
  sockets.push(s);
}

function report() {
  // Count what is still open now: the proxy may have closed some while the others were opening.
  const stillOpen = sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
  process.stdout.write(JSON.stringify({ open: stillOpen, failed: count - stillOpen, answered: open }) + '\n');
}

for (let i = 0; i < Math.min(inFlightMax, count); i++) one();
setTimeout(() => process.exit(0), holdSeconds * 1000);
process.on('SIGTERM', () => process.exit(0));
