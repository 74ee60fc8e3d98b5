// Experiment: node:http server → a minimal keep-alive client on node's llhttp binding (no undici), to
// measure what replacing only the upstream client would buy. Used by compare.sh (`hlc`).
import http from 'node:http';
import net from 'node:net';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { HTTPParser } = require('_http_common');
const kOnHeadersComplete = HTTPParser.kOnHeadersComplete | 0,
  kOnBody = HTTPParser.kOnBody | 0,
  kOnMessageComplete = HTTPParser.kOnMessageComplete | 0;
const idle = [];
class Upstream {
  constructor() {
    this.socket = net.connect({ host: '127.0.0.1', port: 19101 });
    this.socket.setNoDelay(true);
    this.parser = new HTTPParser();
    this.parser.initialize(HTTPParser.RESPONSE, {}, 65536, 0);
    this.res = null;
    this.parser[kOnHeadersComplete] = (maj, min, headers, method, url, status) => {
      const out = [];
      for (let i = 0; i < headers.length; i += 2) {
        const l = headers[i].toLowerCase();
        if (l === 'connection' || l === 'keep-alive') continue;
        out.push(headers[i], headers[i + 1]);
      }
      this.res.writeHead(status, out);
      return 0;
    };
    this.parser[kOnBody] = (b) => this.res.write(b);
    this.parser[kOnMessageComplete] = () => {
      const res = this.res;
      this.res = null;
      idle.push(this);
      res.end();
    };
    this.socket.on('data', (d) => {
      if (this.parser.execute(d) instanceof Error) this.socket.destroy();
    });
  }
}
http
  .createServer((req, res) => {
    let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const l = raw[i].toLowerCase();
      if (l === 'connection' || l === 'keep-alive' || l === 'host') continue;
      head += raw[i] + ': ' + raw[i + 1] + '\r\n';
    }
    head += 'host: 127.0.0.1:19101\r\n\r\n';
    const up = idle.pop() ?? new Upstream();
    up.res = res;
    up.socket.write(head, 'latin1');
  })
  .listen(19106, '127.0.0.1');
