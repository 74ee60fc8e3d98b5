// Experiment: node:http server → undici Pool.dispatch, the 'undici hand-written' proxy of the anchors.
import http from 'node:http';
import { Pool } from 'undici';
const pool = new Pool('http://127.0.0.1:19101', { connections: 128, pipelining: 1 });
http
  .createServer((req, res) => {
    pool.dispatch(
      { path: req.url, method: req.method, headers: req.rawHeaders, body: null },
      {
        onConnect() {},
        onHeaders(s, h, resume) {
          const o = [];
          for (let i = 0; i < h.length; i += 2) {
            o.push(h[i].toString('latin1'), h[i + 1].toString('latin1'));
          }
          res.writeHead(s, o);
          return true;
        },
        onData(c) {
          return res.write(c);
        },
        onComplete() {
          res.end();
        },
        onError(e) {
          res.statusCode = 502;
          res.end();
        },
      },
    );
  })
  .listen(19103, '127.0.0.1');
