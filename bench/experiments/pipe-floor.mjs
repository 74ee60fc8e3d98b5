// Floor of any Node proxy: each client connection is tied to its own upstream connection and bytes are
// relayed blindly (no parsing). Per request: one read and one write per side, as nginx does.
import net from 'node:net';
const PORT = Number(process.env.PORT ?? 19107);
net
  .createServer({ noDelay: true }, (c) => {
    const u = net.connect({ host: '127.0.0.1', port: 19101, noDelay: true });
    c.on('data', (d) => u.write(d));
    u.on('data', (d) => c.write(d));
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
    c.on('close', () => u.destroy());
    u.on('close', () => c.destroy());
  })
  .listen(PORT, '127.0.0.1');
