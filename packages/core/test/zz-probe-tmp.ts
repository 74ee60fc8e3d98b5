import https from 'node:https';
import tls from 'node:tls';
import { startEngine } from './helpers.js';
import { createTestPki } from '../../../test/helpers/pki.js';
const pki = createTestPki();
const N = Number(process.env.N ?? 200);
const engine = await startEngine({ log: { level: 'error' }, servers: [{ listen: [{ address: '127.0.0.1', port: 0, tls: true, http2: process.env.H2 !== '0' }], tls: { certificate: { cert: pki.server.chainPem, key: pki.server.keyPem } }, routes: [{ match: { prefix: '/' }, action: { type: 'return', status: 200, body: 'ok' } }] }] as never });
const port = engine.gh.addresses()[0]!.port;
const agent = new https.Agent({ keepAlive: true, maxSockets: N, ca: pki.ca.certPem });
let served = 0, failed = 0, stop = false;
const one = () => new Promise<void>((resolve) => { const req = https.request({ host: '127.0.0.1', port, agent }, (res) => { res.resume(); res.on('end', () => { served++; resolve(); }); }); req.on('error', (e) => { failed++; console.log(e.message); resolve(); }); req.end(); });
const t0 = Date.now(); const iv = setInterval(() => console.log('tick', Date.now()-t0, served), 1000);
const workers = Array.from({ length: N }, async () => { while (!stop) await one(); });
for (let i = 0; i < 6; i++) {
  await new Promise((r) => setTimeout(r, 500));
  const t = Date.now();
  await new Promise<void>((resolve) => { const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => { console.log('secure at', Date.now()-t, 'served', served); s.destroy(); resolve(); }); s.on('connect', () => console.log('tcp at', Date.now()-t, 'served', served)); s.on('error', (e) => { console.log('probe err', e.message); resolve(); }); });
  console.log('t', Date.now() - t0, 'served', served, 'probe ms', Date.now() - t, 'sockets', Object.values(agent.sockets).flat().length);
}
clearInterval(iv); stop = true; await Promise.all(workers); agent.destroy(); await engine.close(); pki.cleanup();
