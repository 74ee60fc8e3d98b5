import net from 'node:net';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { HTTPParser } = require('_http_common');
const MODE = process.env.MODE ?? 'llhttp';
const PORT = Number(process.env.PORT ?? 19108);
function mk(kind) {
  const p = new HTTPParser();
  p.initialize(kind, {}, 65536, 0);
  p[HTTPParser.kOnHeadersComplete | 0] = () => 0;
  p[HTTPParser.kOnBody | 0] = () => {};
  p[HTTPParser.kOnMessageComplete | 0] = () => {};
  p[HTTPParser.kOnHeaders | 0] = () => {};
  return p;
}
function jsParse(d) {
  const s = d.latin1Slice(0, d.length);
  const end = s.indexOf('\r\n\r\n');
  let i = s.indexOf('\r\n');
  const first = s.slice(0, i);
  const h = [];
  while (i < end) {
    const n = s.indexOf('\r\n', i + 2);
    const c = s.indexOf(':', i + 2);
    h.push(s.slice(i + 2, c), s.slice(c + 1, n).trim());
    i = n;
  }
  return h.length + first.length;
}
let sink = 0;
net
  .createServer({ noDelay: true }, (c) => {
    const u = net.connect({ host: '127.0.0.1', port: 19101, noDelay: true });
    // MODE: llhttp | js (both directions), or llhttp-res | js-res (responses only).
    const pc = MODE === 'llhttp' ? mk(HTTPParser.REQUEST) : null;
    const pu = MODE.startsWith('llhttp') ? mk(HTTPParser.RESPONSE) : null;
    const reqJs = MODE === 'js';
    c.on('data', (d) => {
      if (pc) pc.execute(d);
      else if (reqJs) sink += jsParse(d);
      u.write(d);
    });
    u.on('data', (d) => {
      if (pu) pu.execute(d);
      else sink += jsParse(d);
      c.write(d);
    });
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
    c.on('close', () => u.destroy());
    u.on('close', () => c.destroy());
  })
  .listen(PORT, '127.0.0.1');
