// A tiny authoritative DNS responder over UDP for tests: answers A queries for the names it knows
// (case-insensitive) and NOERROR/no-data for their other types (nginx also asks AAAA), NXDOMAIN for
// the rest. Stands in for Docker's embedded DNS (`resolver 127.0.0.11`) behind real nginx.
import dgram from 'node:dgram';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

export interface DnsResponder {
  address: string;
  port: number;
  /** Names asked for, in order (lower-cased, with their query type). */
  queries: Array<{ name: string; type: number }>;
  close(): Promise<void>;
}

const TYPE_A = 1;
const TTL_SECONDS = 60;

/** Start on `address:port` (default 127.0.0.1, an ephemeral port). `names` maps name → IPv4. */
export async function startDnsResponder(
  names: Record<string, string>,
  address = '127.0.0.1',
  port = 0,
): Promise<DnsResponder> {
  const table = new Map(Object.entries(names).map(([k, v]) => [k.toLowerCase(), v]));
  const queries: DnsResponder['queries'] = [];
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, peer) => {
    const reply = answer(msg, table, queries);
    if (reply) socket.send(reply, peer.port, peer.address);
  });
  socket.on('error', () => undefined);
  socket.bind(port, address);
  await Promise.race([
    once(socket, 'listening'),
    once(socket, 'error').then(([err]) => {
      throw err as Error;
    }),
  ]);
  const bound = socket.address() as AddressInfo;
  return {
    address: bound.address,
    port: bound.port,
    queries,
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

/** Build the response to one query message, or undefined for anything that is not a single question. */
function answer(
  msg: Buffer,
  table: Map<string, string>,
  queries: DnsResponder['queries'],
): Buffer | undefined {
  if (msg.length < 12 || msg.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let i = 12;
  // Bounded by the message length: each step consumes at least one byte.
  while (i < msg.length) {
    const len = msg[i]!;
    if (len === 0) break;
    if (len > 63 || i + 1 + len > msg.length) return undefined;
    labels.push(msg.subarray(i + 1, i + 1 + len).toString('latin1'));
    i += 1 + len;
  }
  if (i + 5 > msg.length) return undefined;
  const questionEnd = i + 5;
  const type = msg.readUInt16BE(i + 1);
  const name = labels.join('.').toLowerCase();
  queries.push({ name, type });
  const ip = table.get(name);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(msg.readUInt16BE(0), 0); // id
  const rd = msg[2]! & 0x01;
  // QR, AA, RD copied; RCODE 3 (NXDOMAIN) for unknown names.
  header.writeUInt16BE(0x8400 | (rd << 8) | (ip === undefined ? 3 : 0), 2);
  header.writeUInt16BE(1, 4);
  const withAnswer = ip !== undefined && type === TYPE_A;
  header.writeUInt16BE(withAnswer ? 1 : 0, 6);
  const question = msg.subarray(12, questionEnd);
  if (!withAnswer) return Buffer.concat([header, question]);
  const rr = Buffer.alloc(16);
  rr.writeUInt16BE(0xc00c, 0); // pointer to the question name
  rr.writeUInt16BE(TYPE_A, 2);
  rr.writeUInt16BE(1, 4); // class IN
  rr.writeUInt32BE(TTL_SECONDS, 6);
  rr.writeUInt16BE(4, 10);
  ip.split('.').forEach((octet, k) => rr.writeUInt8(Number(octet), 12 + k));
  return Buffer.concat([header, question, rr]);
}
