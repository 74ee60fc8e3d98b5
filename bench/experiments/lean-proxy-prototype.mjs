// Experiment (not part of the product): the smallest HTTP/1.1 proxy on node's llhttp binding, to measure
// how far a lean path could go. No routing, limits or error handling. Used by compare.sh.
// Prototype: lean HTTP/1.1 proxy on llhttp (node's HTTPParser), keep-alive both sides.
import net from 'node:net';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { HTTPParser, methods } = require('_http_common');
const kOnHeaders = HTTPParser.kOnHeaders | 0,
  kOnHeadersComplete = HTTPParser.kOnHeadersComplete | 0,
  kOnBody = HTTPParser.kOnBody | 0,
  kOnMessageComplete = HTTPParser.kOnMessageComplete | 0;
const UP = { host: '127.0.0.1', port: 19101 };
const idle = [];
class Upstream {
  constructor() {
    this.socket = net.connect(UP);
    this.socket.setNoDelay(true);
    this.parser = new HTTPParser();
    this.parser.initialize(HTTPParser.RESPONSE, {}, 65536, 0);
    this.client = null;
    this.parser[kOnHeadersComplete] = (
      maj,
      min,
      headers,
      method,
      url,
      status,
      statusMsg,
      upgrade,
      keepAlive,
    ) => {
      let head = `HTTP/1.1 ${status} ${statusMsg}\r\n`;
      for (let i = 0; i < headers.length; i += 2) {
        const l = headers[i].toLowerCase();
        if (l === 'connection' || l === 'keep-alive') continue;
        head += headers[i] + ': ' + headers[i + 1] + '\r\n';
      }
      this.client.socket.write(head + '\r\n', 'latin1');
      return 0;
    };
    this.parser[kOnBody] = (b) => {
      this.client.socket.write(b);
    };
    this.parser[kOnMessageComplete] = () => {
      const c = this.client;
      this.client = null;
      idle.push(this);
      c.done();
    };
    this.socket.on('data', (d) => {
      const r = this.parser.execute(d);
      if (r instanceof Error) this.socket.destroy();
    });
  }
}
class Conn {
  constructor(socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    const p = (this.parser = new HTTPParser());
    p.initialize(HTTPParser.REQUEST, {}, 16384, 0);
    p[kOnHeadersComplete] = (maj, min, headers, method, url) => {
      let head = `${methods[method]} ${url} HTTP/1.1\r\n`;
      for (let i = 0; i < headers.length; i += 2) {
        const l = headers[i].toLowerCase();
        if (l === 'connection' || l === 'keep-alive' || l === 'host') continue;
        head += headers[i] + ': ' + headers[i + 1] + '\r\n';
      }
      head += 'host: 127.0.0.1:19101\r\nx-forwarded-for: ' + socket.remoteAddress + '\r\n\r\n';
      const up = idle.pop() ?? new Upstream();
      up.client = this;
      this.up = up;
      up.socket.write(head, 'latin1');
      return 0;
    };
    p[kOnBody] = (b) => this.up.socket.write(b);
    p[kOnMessageComplete] = () => {};
    socket.on('data', (d) => {
      const r = p.execute(d);
      if (r instanceof Error) socket.destroy();
    });
    socket.on('error', () => {});
  }
  done() {}
}
net.createServer((s) => new Conn(s)).listen(19104, '127.0.0.1');
