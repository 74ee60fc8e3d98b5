// An emulator of the IoT Edge workload API (edgelet, api-versions 2018-06-28 … 2022-08-03) on a unix
// socket: trust bundle, server certificates issued by an edge CA (node-forge, through core's PKI) with
// short configurable lifetimes, HMAC-SHA256 sign with per-module keys, 403 for a module other than the
// caller, edgelet's error bodies. Counters and knobs let tests and benches watch and disturb it.
import { createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createCertificateAuthority,
  issueCertificate,
  type CertificateAuthority,
  type IssuedCertificate,
  type IssueOptions,
} from '../../../packages/core/src/tls/index.js';

const API_VERSIONS = new Set([
  '2018-06-28',
  '2019-01-30',
  '2019-10-22',
  '2019-11-05',
  '2020-07-07',
  '2021-12-07',
  '2022-08-03',
]);

export interface WorkloadApiOptions {
  /** Module ids and their base64 symmetric keys (generated when omitted). */
  modules: Record<string, string | undefined>;
  /** The module whose container calls (edgelet authorises callers by PID): others get 403. */
  caller: string;
  /** Lifetime of issued server certificates. Default 30 days (edgelet's default). */
  serverCertLifetimeMs?: number;
  /** Edge CA common name. */
  caName?: string;
  /** RSA key size of issued certificates. Default 2048. */
  keyBits?: number;
  /** Socket path (default: a new temporary directory's workload.sock). */
  socketPath?: string;
  /** Issue from this CA (devices of one nested hierarchy share a root). */
  ca?: CertificateAuthority;
}

interface WorkloadCounters {
  trustBundle: number;
  serverCert: number;
  sign: number;
  forbidden: number;
  failed: number;
  /** Highest number of requests being answered at once. */
  maxConcurrent: number;
}

export interface WorkloadApi {
  socketPath: string;
  /** `unix://…`, what IOTEDGE_WORKLOADURI carries. */
  uri: string;
  /** The edge CA currently issuing. */
  readonly ca: CertificateAuthority;
  /** The PEM bundle `/trust-bundle` returns. */
  readonly trustBundle: string;
  counters: WorkloadCounters;
  /** Module key (base64). */
  keyOf(moduleId: string): string;
  /** HMAC-SHA256 as `/sign` computes it (base64). */
  sign(moduleId: string, data: Buffer | string): string;
  serverCertLifetimeMs: number;
  /** Next `n` requests answer `status` with an edgelet error body (or are dropped with status 0). */
  failNext(n: number, status: number): void;
  /** Delay before each answer. */
  latencyMs: number;
  /** New edge CA; the bundle holds the new CA, plus the old one when `keepOld`. */
  rotateCa(opts?: { keepOld?: boolean }): void;
  /** Issue a certificate from the current CA (client certificates, parent certificates in tests). */
  issue(opts: IssueOptions): IssuedCertificate;
  close(): Promise<void>;
}

export async function startWorkloadApi(options: WorkloadApiOptions): Promise<WorkloadApi> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-workload-'));
  const socketPath = options.socketPath ?? join(dir, 'workload.sock');
  const keyBits = options.keyBits ?? 2048;
  const keys = new Map<string, string>();
  for (const [id, key] of Object.entries(options.modules))
    keys.set(id, key ?? randomBytes(32).toString('base64'));
  const caName = options.caName ?? 'Test Edge CA';
  let ca = options.ca ?? createCertificateAuthority({ commonName: caName, keyBits });
  let trustBundle = ca.certPem;
  let failures: { n: number; status: number } = { n: 0, status: 500 };
  let active = 0;
  const counters: WorkloadCounters = {
    trustBundle: 0,
    serverCert: 0,
    sign: 0,
    forbidden: 0,
    failed: 0,
    maxConcurrent: 0,
  };

  const hmac = (id: string, data: Buffer | string): string => {
    const key = keys.get(id);
    if (key === undefined) throw new Error(`unknown module ${id}`);
    return createHmac('sha256', Buffer.from(key, 'base64')).update(data).digest('base64');
  };

  const api: WorkloadApi = {
    socketPath,
    uri: `unix://${socketPath}`,
    get ca() {
      return ca;
    },
    get trustBundle() {
      return trustBundle;
    },
    counters,
    keyOf: (id) => {
      const key = keys.get(id);
      if (key === undefined) throw new Error(`unknown module ${id}`);
      return key;
    },
    sign: hmac,
    serverCertLifetimeMs: options.serverCertLifetimeMs ?? 30 * 86_400_000,
    failNext: (n, status) => {
      failures = { n, status };
    },
    latencyMs: 0,
    rotateCa: (opts = {}) => {
      const old = ca;
      ca = createCertificateAuthority({ commonName: `${caName} ${Date.now()}`, keyBits });
      trustBundle = opts.keepOld ? ca.certPem + old.certPem : ca.certPem;
    },
    issue: (opts) => issueCertificate(ca, { keyBits, ...opts }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };

  const reply = (res: http.ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      connection: 'close',
    });
    res.end(text);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> => {
    if (api.latencyMs > 0) await new Promise((r) => setTimeout(r, api.latencyMs));
    if (failures.n > 0) {
      failures.n--;
      counters.failed++;
      if (failures.status === 0) return void req.socket.destroy();
      return reply(res, failures.status, { message: 'injected failure' });
    }
    const url = new URL(req.url ?? '/', 'http://workload');
    const version = url.searchParams.get('api-version');
    if (version === null) return reply(res, 400, { message: 'api-version not specified' });
    if (!API_VERSIONS.has(version)) return reply(res, 400, { message: `invalid api-version "${version}"` });
    const path = url.pathname;
    if (path === '/trust-bundle' || path === '/manifest-trust-bundle') {
      if (req.method !== 'GET') return reply(res, 400, { message: 'method not allowed' });
      if (path === '/trust-bundle') counters.trustBundle++;
      return reply(res, 200, { certificate: path === '/trust-bundle' ? trustBundle : '' });
    }
    const m = /^\/modules\/([^/]+)\/genid\/([^/]+)\/(sign|certificate\/server)$/.exec(path);
    if (!m) return reply(res, 404, { message: 'not found' });
    if (req.method !== 'POST') return reply(res, 400, { message: 'method not allowed' });
    const moduleId = decodeURIComponent(m[1]!);
    if (moduleId !== options.caller || !keys.has(moduleId)) {
      counters.forbidden++;
      return reply(res, 403, { message: 'forbidden' });
    }
    // edgelet ignores a body without a JSON content type.
    const json = /^application\/json/i.test(req.headers['content-type'] ?? '');
    let parsed: Record<string, unknown> | undefined;
    if (json && body.length > 0) {
      try {
        parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      } catch {
        return reply(res, 422, { message: 'invalid JSON' });
      }
    }
    if (m[3] === 'sign') {
      if (!parsed) return reply(res, 400, { message: 'missing parameter: request body' });
      if (typeof parsed.data !== 'string') return reply(res, 422, { message: 'missing data' });
      counters.sign++;
      return reply(res, 200, { digest: hmac(moduleId, Buffer.from(parsed.data, 'base64')) });
    }
    if (!parsed) return reply(res, 400, { message: 'missing request body' });
    const commonName = parsed.commonName;
    if (typeof commonName !== 'string' || commonName === '')
      return reply(res, 422, { message: 'missing commonName' });
    counters.serverCert++;
    const notBefore = new Date(Date.now() - 1000);
    const notAfter = new Date(Date.now() + api.serverCertLifetimeMs);
    const ip = isIP(commonName) !== 0;
    const issued = issueCertificate(ca, {
      commonName,
      keyBits,
      notBefore,
      notAfter,
      dnsNames: [...(ip ? [] : [commonName]), moduleId.replace(/^\$/, '')],
      ...(ip ? { ipAddresses: [commonName] } : {}),
    });
    return reply(res, 201, {
      privateKey: { type: 'key', bytes: issued.keyPem },
      certificate: issued.chainPem,
      expiration: notAfter.toISOString(),
    });
  };

  const server = http.createServer((req, res) => {
    active++;
    counters.maxConcurrent = Math.max(counters.maxConcurrent, active);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks))
        .catch((err: Error) => reply(res, 500, { message: err.message }))
        .finally(() => active--);
    });
  });
  server.listen(socketPath);
  await once(server, 'listening');
  return api;
}
