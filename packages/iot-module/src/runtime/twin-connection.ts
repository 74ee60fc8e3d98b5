// The module twin through the Azure IoT device SDK (`ModuleClient.fromEnvironment` over MQTT, which
// also takes the `EdgeHubConnectionString` path): the desired properties on every (re)connect — the
// SDK does not fetch the twin again after a reconnect, and a patch sent while offline would be lost —
// and on every desired patch; reported-property patches. A failed start or a lost connection is
// retried with back-off, never a crash.
import type { ModuleClient as ModuleClientType } from 'azure-iot-device';
import type { Twin } from 'azure-iot-device/dist/twin.js';
import { Backoff, sleep } from './backoff.js';
import type { ModuleLogger } from './module-logger.js';

export interface TwinConnectionOptions {
  env: Readonly<Record<string, string | undefined>>;
  logger: ModuleLogger;
  /** Called with the full desired properties (initial twin, each reconnect) or a patch. */
  onDesired: (desired: Record<string, unknown>, kind: 'full' | 'patch') => void;
  onConnectionChange?: (connected: boolean) => void;
  backoff?: { initialMs?: number; maxMs?: number };
}

export class TwinConnection {
  private client: ModuleClientType | undefined;
  private twin: Twin | undefined;
  private readonly abort = new AbortController();
  private connected = false;
  private pendingReport: Record<string, unknown> = {};
  private reporting: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: TwinConnectionOptions) {}

  get isConnected(): boolean {
    return this.connected;
  }

  /** Runs in the background until close(). */
  start(): void {
    void this.loop();
  }

  /** Merge `patch` into the reported properties; sent now, or when the connection is back. */
  report(patch: Record<string, unknown>): void {
    Object.assign(this.pendingReport, patch);
    this.flush();
  }

  /** Drop the connection and make a new client (after a trust-bundle change: the SDK read it once). */
  reconnect(): void {
    this.wake?.();
  }

  async close(): Promise<void> {
    this.abort.abort();
    this.wake?.();
    const client = this.client;
    this.client = undefined;
    if (client) await client.close().catch(() => undefined);
  }

  private flush(): void {
    if (this.reporting || !this.twin || !this.connected || Object.keys(this.pendingReport).length === 0)
      return;
    const patch = this.pendingReport;
    this.pendingReport = {};
    const twin = this.twin;
    this.reporting = new Promise<void>((resolve) => {
      twin.properties.reported.update(patch, (err?: Error) => {
        if (err) {
          // Kept for the next attempt; newer values of the same keys win.
          this.pendingReport = { ...patch, ...this.pendingReport };
          this.options.logger.warn({ err }, 'reported properties not sent; will retry');
        }
        resolve();
      });
    }).finally(() => {
      this.reporting = undefined;
      if (Object.keys(this.pendingReport).length > 0)
        setTimeout(() => this.flush(), this.connected ? 0 : 1000).unref();
    });
  }

  private async loop(): Promise<void> {
    const { logger } = this.options;
    const backoff = new Backoff(this.options.backoff);
    const sdk = (await import('azure-iot-device')).default;
    const { Mqtt } = (await import('azure-iot-device-mqtt')).default;
    while (!this.abort.signal.aborted) {
      let client: ModuleClientType | undefined;
      try {
        client = await withEnv(this.options.env, () => sdk.ModuleClient.fromEnvironment(Mqtt));
        this.client = client;
        const lost = new Promise<void>((resolve) => {
          this.wake = resolve;
          client!.on('disconnect', () => resolve());
          client!.on('error', (err: Error) => {
            logger.warn({ err }, 'module client error');
            resolve();
          });
        });
        client.on('connect', () => {
          // Reconnected by the SDK: read the whole twin again (a patch may have been missed).
          void this.readTwin(client!);
        });
        await client.open();
        this.setConnected(true);
        await this.readTwin(client);
        backoff.reset();
        await lost;
        logger.warn('module client disconnected; reconnecting');
      } catch (err) {
        if (this.abort.signal.aborted) break;
        logger.warn({ err: err as Error }, 'module twin connection failed; retrying');
      }
      this.setConnected(false);
      this.twin = undefined;
      if (client) await client.close().catch(() => undefined);
      if (this.client === client) this.client = undefined;
      await sleep(backoff.next(), this.abort.signal);
    }
  }

  private async readTwin(client: ModuleClientType): Promise<void> {
    try {
      const twin = await client.getTwin();
      if (this.twin !== twin) {
        this.twin = twin;
        twin.on('properties.desired', (delta: Record<string, unknown>) => {
          // The SDK emits the whole desired document once at subscription; patches after.
          this.options.onDesired(delta, 'patch');
        });
      }
      this.options.onDesired(twin.properties.desired, 'full');
      this.setConnected(true);
      this.flush();
    } catch (err) {
      this.options.logger.warn({ err: err as Error }, 'module twin could not be read');
    }
  }

  private setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    this.options.onConnectionChange?.(connected);
  }
}

/** fromEnvironment reads process.env; a module embedded as a library may run with another env. */
function withEnv<T>(env: Readonly<Record<string, string | undefined>>, fn: () => Promise<T>): Promise<T> {
  if (env === process.env) return fn();
  const names = [
    'EdgeHubConnectionString',
    'IotHubConnectionString',
    'EdgeModuleCACertificateFile',
    'IOTEDGE_WORKLOADURI',
    'IOTEDGE_DEVICEID',
    'IOTEDGE_MODULEID',
    'IOTEDGE_IOTHUBHOSTNAME',
    'IOTEDGE_AUTHSCHEME',
    'IOTEDGE_MODULEGENERATIONID',
    'IOTEDGE_GATEWAYHOSTNAME',
  ];
  const saved = names.map((n) => [n, process.env[n]] as const);
  for (const n of names) {
    if (env[n] === undefined) delete process.env[n];
    else process.env[n] = env[n];
  }
  try {
    // fromEnvironment reads the variables synchronously, before its first callback: restored at once.
    return fn();
  } finally {
    for (const [n, v] of saved) {
      if (v === undefined) delete process.env[n];
      else process.env[n] = v;
    }
  }
}
