// Client of the IoT Edge workload API (§3 of the reference): trust bundle, server certificate, HMAC
// sign. Over a unix socket (`unix:///var/run/iotedge/workload.sock`) or plain http. edgelet allows a
// few open connections per module and closes the excess without a reply, so calls are bounded
// (`maxConcurrent`, queued beyond) and no connection is kept alive between calls.
import http from 'node:http';

export class WorkloadError extends Error {
  constructor(
    message: string,
    /** HTTP status, or 0 when no answer came (connection refused, reset, timeout). */
    readonly status: number,
  ) {
    super(message);
    this.name = 'WorkloadError';
  }
}

export interface WorkloadClientOptions {
  /** IOTEDGE_WORKLOADURI: `unix://PATH` or `http://host:port`. */
  uri: string;
  moduleId: string;
  generationId: string;
  /** Default 2019-01-30, as the Rust module. */
  apiVersion?: string;
  /** Calls in flight at once. Default 4 (edgelet allows 10 per module, the SDK uses some). */
  maxConcurrent?: number;
  /** Per call. Default 10 s. */
  timeoutMs?: number;
}

export interface ServerCertificate {
  /** PEM leaf + chain. */
  cert: string;
  /** PEM private key. */
  key: string;
  expiration: Date;
  /** When it was received (rotation is planned on the lifetime from here). */
  issuedAt: Date;
}

export interface WorkloadCallCounts {
  trustBundle: number;
  serverCertificate: number;
  sign: number;
  errors: number;
}

const MAX_RESPONSE_BYTES = 1 << 20;

export class WorkloadClient {
  readonly calls: WorkloadCallCounts = { trustBundle: 0, serverCertificate: 0, sign: 0, errors: 0 };
  private readonly target: { socketPath: string } | { host: string; port: number };
  private readonly apiVersion: string;
  private active = 0;
  private readonly queue: Array<() => void> = [];

  constructor(private readonly options: WorkloadClientOptions) {
    const url = new URL(options.uri);
    if (url.protocol === 'unix:') this.target = { socketPath: decodeURIComponent(url.pathname) };
    else if (url.protocol === 'http:')
      this.target = { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80) };
    else
      throw new WorkloadError(
        `IOTEDGE_WORKLOADURI: unsupported scheme "${url.protocol}" (unix: or http:)`,
        0,
      );
    this.apiVersion = options.apiVersion ?? '2019-01-30';
  }

  async trustBundle(): Promise<string> {
    this.calls.trustBundle++;
    const body = await this.call('GET', '/trust-bundle');
    if (typeof body.certificate !== 'string' || !body.certificate.includes('-----BEGIN CERTIFICATE-----'))
      throw new WorkloadError('trust bundle: the answer has no PEM certificate', 200);
    return body.certificate;
  }

  async serverCertificate(commonName: string): Promise<ServerCertificate> {
    this.calls.serverCertificate++;
    const expiration = new Date(Date.now() + 90 * 86_400_000).toISOString();
    const body = await this.call('POST', `${this.modulePath()}/certificate/server`, {
      commonName,
      expiration,
    });
    const key = (body.privateKey as { bytes?: unknown } | undefined)?.bytes;
    if (
      typeof body.certificate !== 'string' ||
      typeof key !== 'string' ||
      typeof body.expiration !== 'string'
    )
      throw new WorkloadError(
        'server certificate: certificate, privateKey.bytes and expiration are required',
        201,
      );
    const exp = new Date(body.expiration);
    if (Number.isNaN(exp.getTime()))
      throw new WorkloadError(`server certificate: invalid expiration "${body.expiration}"`, 201);
    return { cert: body.certificate, key, expiration: exp, issuedAt: new Date() };
  }

  /** HMAC-SHA256 of `data` with the module's key; the base64 digest. */
  async sign(data: string | Buffer): Promise<string> {
    this.calls.sign++;
    const body = await this.call('POST', `${this.modulePath()}/sign`, {
      keyId: 'primary',
      algo: 'HMACSHA256',
      data: Buffer.from(data).toString('base64'),
    });
    if (typeof body.digest !== 'string') throw new WorkloadError('sign: the answer has no digest', 200);
    return body.digest;
  }

  private modulePath(): string {
    const enc = (s: string): string =>
      encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    return `/modules/${enc(this.options.moduleId)}/genid/${enc(this.options.generationId)}`;
  }

  private async call(method: string, path: string, json?: unknown): Promise<Record<string, unknown>> {
    await this.acquire();
    try {
      return await this.request(method, path, json);
    } catch (err) {
      this.calls.errors++;
      throw err;
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.active < (this.options.maxConcurrent ?? 4)) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.active--;
  }

  private request(method: string, path: string, json?: unknown): Promise<Record<string, unknown>> {
    const body = json === undefined ? undefined : Buffer.from(JSON.stringify(json));
    const what = `${method} ${path}`;
    return new Promise((resolve, reject) => {
      const req = http.request({
        ...this.target,
        method,
        path: `${path}?api-version=${this.apiVersion}`,
        agent: false,
        timeout: this.options.timeoutMs ?? 10_000,
        headers: {
          host: 'localhost',
          connection: 'close',
          ...(body ? { 'content-type': 'application/json', 'content-length': body.length } : {}),
        },
      });
      req.on('timeout', () => req.destroy(new WorkloadError(`workload API ${what}: timed out`, 0)));
      req.on('error', (err) =>
        reject(
          err instanceof WorkloadError ? err : new WorkloadError(`workload API ${what}: ${err.message}`, 0),
        ),
      );
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES)
            req.destroy(new WorkloadError(`workload API ${what}: answer too large`, 0));
          else chunks.push(c);
        });
        res.on('error', () => undefined);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            parsed = undefined;
          }
          const obj =
            parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
          if (status < 200 || status >= 300) {
            const message = typeof obj.message === 'string' ? obj.message : `status ${status}`;
            return reject(new WorkloadError(`workload API ${what}: ${status} ${message}`, status));
          }
          if (parsed === undefined)
            return reject(new WorkloadError(`workload API ${what}: the answer is not JSON`, status));
          resolve(obj);
        });
      });
      req.end(body);
    });
  }
}
