// The master's control socket `edgemicro.sock` in the working directory (edgemicro's IPC for `stop`,
// `reload` and `status`): one JSON request line, one JSON answer line. A socket file left by a dead
// process is detected (nothing accepts on it) and removed before a new master listens.
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import net from 'node:net';

export type ControlCommand = 'status' | 'reload' | 'stop';

export interface ControlReply {
  readonly ok: boolean;
  readonly message: string;
  readonly workers?: readonly number[];
  readonly [field: string]: unknown;
}

export type ControlHandler = (command: ControlCommand) => Promise<ControlReply>;

const MAX_LINE = 4096;

/** Is a live process answering on this socket file? */
function socketAlive(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    const done = (alive: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(alive);
    };
    const timer = setTimeout(() => done(true), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** Remove a stale socket file; throws when a live gateway owns it. */
export async function claimSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (await socketAlive(path))
    throw new Error(`edgemicro seems to be already running (control socket ${path} answers); stop it first`);
  unlinkSync(path);
}

export async function listenControl(path: string, handler: ControlHandler): Promise<net.Server> {
  await claimSocket(path);
  const server = net.createServer((socket) => {
    let buf = '';
    socket.setEncoding('utf8');
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('error', () => undefined);
    socket.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_LINE) return void socket.destroy();
      const nl = buf.indexOf('\n');
      if (nl === -1) return;
      const line = buf.slice(0, nl);
      socket.removeAllListeners('data');
      // The request is in: a reload may take as long as the workers need to roll.
      socket.setTimeout(0);
      let command: unknown;
      try {
        command = (JSON.parse(line) as { command?: unknown }).command;
      } catch {
        command = undefined;
      }
      const reply =
        command === 'status' || command === 'reload' || command === 'stop'
          ? handler(command).catch((err: unknown) => ({ ok: false, message: (err as Error).message }))
          : Promise.resolve({ ok: false, message: 'unknown command' });
      void reply.then((r) => socket.end(`${JSON.stringify(r)}\n`));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      // Only the owner may stop or reload the gateway.
      chmodSync(path, 0o600);
      resolve();
    });
  });
  return server;
}

/** Send a command to the running master. Rejects with "edgemicro is not running" when nothing answers. */
export function sendControl(
  path: string,
  command: ControlCommand,
  timeoutMs = 120_000,
): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    if (!existsSync(path)) return reject(new Error('edgemicro is not running'));
    const s = net.connect(path);
    let buf = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer from edgemicro within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    s.setEncoding('utf8');
    s.once('connect', () => s.write(`${JSON.stringify({ command })}\n`));
    s.on('data', (c: string) => (buf += c));
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new Error(
          err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? 'edgemicro is not running' : err.message,
        ),
      );
    });
    s.once('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buf) as ControlReply);
      } catch {
        reject(new Error('edgemicro answered something unreadable on its control socket'));
      }
    });
  });
}
