// WebSocket echo upstream for the websocket scenario (npm `ws` from the workspace root). Plain HTTP
// requests get the same small body as the nginx upstream, so the harness's smoke request passes.
// argv: port
import http from 'node:http';
import { WebSocketServer } from 'ws';

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '12' });
  res.end('hello world\n');
});
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
server.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) =>
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })),
  );
});
server.keepAliveTimeout = 120000;
server.listen({ port: Number(process.argv[2]), host: '127.0.0.1', backlog: 4096 });
process.on('SIGTERM', () => process.exit(0));
