// Analytics records on their way to Edge: a bounded buffer (overflow is dropped and counted), sent
// every flushInterval in batches of batchSize as {"records":[…]} with Basic key:secret; a batch Edge
// refuses (non-2xx, network error, or {"rejected": n}) goes back to the front of the buffer, within
// the bound, and is retried at the next flush.
import http from 'node:http';
import https from 'node:https';

export type AnalyticsRecord = Readonly<Record<string, unknown>>;

export interface UploaderOptions {
  readonly uri: string;
  readonly key: string;
  readonly secret: string;
  readonly bufferSize: number;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  /** Bound on one upload (ms). Default 10,000. */
  readonly timeoutMs?: number;
}

export class AnalyticsUploader {
  private buffer: AnalyticsRecord[] = [];
  private readonly timer: NodeJS.Timeout;
  private sending = false;
  private readonly url: URL;
  private readonly authorization: string;
  /** Records dropped because the buffer was full (the metric the runtime exports). */
  dropped = 0;
  /** Records Edge accepted. */
  sent = 0;

  constructor(private readonly options: UploaderOptions) {
    this.url = new URL(options.uri);
    this.authorization = `Basic ${Buffer.from(`${options.key}:${options.secret}`).toString('base64')}`;
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs);
    this.timer.unref();
  }

  get pending(): number {
    return this.buffer.length;
  }

  push(record: AnalyticsRecord): void {
    if (this.buffer.length >= this.options.bufferSize) {
      this.dropped++;
      return;
    }
    this.buffer.push(record);
  }

  /** Send what is buffered, batch by batch, stopping at the first refused batch. */
  async flush(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.buffer.length > 0) {
        const batch = this.buffer.splice(0, this.options.batchSize);
        const rejected = await this.post(batch);
        if (rejected === 0) {
          this.sent += batch.length;
          continue;
        }
        const back = batch.slice(batch.length - rejected);
        this.sent += batch.length - back.length;
        const room = Math.max(0, this.options.bufferSize - this.buffer.length);
        this.dropped += Math.max(0, back.length - room);
        this.buffer = back.slice(0, room).concat(this.buffer);
        return;
      }
    } finally {
      this.sending = false;
    }
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Resolves with how many records of the batch were not accepted. */
  private post(batch: AnalyticsRecord[]): Promise<number> {
    const body = JSON.stringify({ records: batch });
    const client = this.url.protocol === 'https:' ? https : http;
    return new Promise((resolve) => {
      const req = client.request(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: this.authorization,
        },
      });
      const timer = setTimeout(
        () => req.destroy(new Error('analytics upload timed out')),
        this.options.timeoutMs ?? 10_000,
      );
      req.on('error', () => {
        clearTimeout(timer);
        resolve(batch.length);
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= 64 * 1024) chunks.push(c);
        });
        res.on('error', () => undefined);
        res.on('end', () => {
          clearTimeout(timer);
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) return resolve(batch.length);
          let rejected = 0;
          try {
            const n = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { rejected?: unknown }).rejected;
            if (typeof n === 'number' && n > 0) rejected = Math.min(batch.length, Math.floor(n));
          } catch {
            rejected = 0;
          }
          resolve(rejected);
        });
      });
      req.end(body);
    });
  }
}
