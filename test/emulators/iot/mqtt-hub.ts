// An emulator of edgeHub's MQTT surface for modules, on aedes over TLS: SAS-token authentication
// (HMAC-SHA256 with the module key, hub or gateway host name, module- or device-level audience, as
// edgeHub accepts), the module twin (GET, desired PATCH pushed to the module, reported PATCH with
// versions) and direct methods, on the `$iothub/...` topics the Azure IoT SDKs use. Answers go to the
// asking client only (client.publish), never broadcast.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';

export interface MqttHubOptions {
  /** Address to bind; the SDK dials IOTEDGE_GATEWAYHOSTNAME:8883. */
  host: string;
  port?: number;
  /** TLS server certificate (SAN = the gateway host name or address) and key. */
  cert: string;
  key: string;
  /** IOTEDGE_IOTHUBHOSTNAME. */
  hubHostname: string;
  /** IOTEDGE_GATEWAYHOSTNAME (also accepted in the audience). */
  gatewayHostname: string;
  /** `device/module` → base64 key. */
  keys: Record<string, string>;
}

interface TwinDoc {
  desired: Record<string, unknown> & { $version: number };
  reported: Record<string, unknown> & { $version: number };
}

export interface MethodResult {
  status: number;
  payload: unknown;
}

export interface MqttHub {
  host: string;
  port: number;
  counters: { connects: number; authFailures: number; twinGets: number; reportedPatches: number };
  /** The twin of `device/module` (created empty). */
  twin(id: string): TwinDoc;
  /** Merge a desired patch (null deletes), bump the version and push it to the connected module. */
  patchDesired(id: string, patch: Record<string, unknown>): void;
  /** Resolves with the reported properties once `predicate` holds for them. */
  waitReported(
    id: string,
    predicate: (reported: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Invoke a direct method on the connected module. */
  invokeMethod(id: string, name: string, payload: unknown, timeoutMs?: number): Promise<MethodResult>;
  /** Drop every client connection (they reconnect on their own). */
  disconnectAll(): void;
  connected(id: string): boolean;
  close(): Promise<void>;
}

function merge(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$version') continue;
    if (v === null) delete target[k];
    else if (
      typeof v === 'object' &&
      !Array.isArray(v) &&
      typeof target[k] === 'object' &&
      target[k] !== null
    )
      merge(target[k] as Record<string, unknown>, v as Record<string, unknown>);
    else target[k] = v;
  }
}

function authError(code: 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
}

/** Verify a `SharedAccessSignature sr=…&sig=…&se=…` for `device/module`. Returns a reason or undefined. */
export function verifySas(
  token: string,
  id: string,
  key: string,
  hosts: string[],
  now = Date.now(),
): string | undefined {
  const prefix = 'SharedAccessSignature ';
  if (!token.startsWith(prefix)) return 'not a SharedAccessSignature';
  const fields = new Map<string, string>();
  for (const part of token.slice(prefix.length).split('&')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const sr = fields.get('sr');
  const sig = fields.get('sig');
  const se = fields.get('se');
  if (!sr || !sig || !se) return 'sr, sig and se are required';
  if (!/^\d+$/.test(se) || Number(se) * 1000 <= now) return 'token expired';
  const expected = createHmac('sha256', Buffer.from(key, 'base64')).update(`${sr}\n${se}`).digest();
  const given = Buffer.from(decodeURIComponent(sig), 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad signature';
  const [device, module] = id.split('/');
  const parts = decodeURIComponent(sr).toLowerCase().split('/');
  const host = parts[0] ?? '';
  if (!hosts.some((h) => h.toLowerCase() === host)) return `audience host ${host} unknown`;
  if (parts[1] !== 'devices' || parts[2] !== device?.toLowerCase()) return 'audience device mismatch';
  if (parts.length > 3 && (parts[3] !== 'modules' || parts[4] !== module?.toLowerCase()))
    return 'audience module mismatch';
  return undefined;
}

export async function startMqttHub(options: MqttHubOptions): Promise<MqttHub> {
  const twins = new Map<string, TwinDoc>();
  const clients = new Map<string, Client>();
  const pendingMethods = new Map<string, (r: MethodResult) => void>();
  const reportedWaiters = new Set<() => void>();
  const counters = { connects: 0, authFailures: 0, twinGets: 0, reportedPatches: 0 };
  const twin = (id: string): TwinDoc => {
    let t = twins.get(id);
    if (!t) twins.set(id, (t = { desired: { $version: 1 }, reported: { $version: 1 } }));
    return t;
  };
  const send = (client: Client, topic: string, payload: string): void => {
    client.publish(
      {
        cmd: 'publish',
        topic,
        payload: Buffer.from(payload),
        qos: 0,
        retain: false,
        dup: false,
      },
      () => undefined,
    );
  };

  const broker = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      const id = client.id;
      const key = options.keys[id];
      const expectedUser = new RegExp(
        `^(${[options.hubHostname, options.gatewayHostname].map((h) => h.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})/${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\?`,
        'i',
      );
      const reason =
        key === undefined
          ? 'unknown identity'
          : !username || !expectedUser.test(username)
            ? 'bad user name'
            : verifySas(password?.toString('utf8') ?? '', id, key, [
                options.hubHostname,
                options.gatewayHostname,
              ]);
      if (reason !== undefined) {
        counters.authFailures++;
        return done(authError(reason === 'unknown identity' ? 5 : 4, reason), false);
      }
      counters.connects++;
      done(null, true);
    },
    authorizePublish: (client, packet: PublishPacket, callback) => {
      if (!client) return callback(null);
      const topic = packet.topic;
      const rid = /[?&]\$rid=([^&]+)/.exec(topic)?.[1];
      const id = client.id;
      if (topic.startsWith('$iothub/twin/GET/')) {
        counters.twinGets++;
        send(client, `$iothub/twin/res/200/?$rid=${rid}`, JSON.stringify(twin(id)));
      } else if (topic.startsWith('$iothub/twin/PATCH/properties/reported/')) {
        counters.reportedPatches++;
        const t = twin(id);
        try {
          merge(t.reported, JSON.parse(packet.payload.toString()) as Record<string, unknown>);
        } catch {
          send(client, `$iothub/twin/res/400/?$rid=${rid}`, '{"errorCode":400001,"message":"bad json"}');
          return callback(null);
        }
        t.reported.$version++;
        send(client, `$iothub/twin/res/204/?$rid=${rid}&$version=${t.reported.$version}`, '');
        for (const w of [...reportedWaiters]) w();
      } else if (topic.startsWith('$iothub/methods/res/')) {
        const status = Number(/^\$iothub\/methods\/res\/(\d+)\//.exec(topic)?.[1] ?? 500);
        const done = rid === undefined ? undefined : pendingMethods.get(rid);
        if (done && rid !== undefined) {
          pendingMethods.delete(rid);
          let payload: unknown = packet.payload.toString();
          try {
            payload = JSON.parse(payload as string);
          } catch {
            // not JSON: returned as text
          }
          done({ status, payload });
        }
      }
      callback(null);
    },
  });
  broker.on('client', (client) => clients.set(client.id, client));
  broker.on('clientDisconnect', (client) => {
    if (clients.get(client.id) === client) clients.delete(client.id);
  });
  const server = tls.createServer({ cert: options.cert, key: options.key }, (socket) =>
    broker.handle(socket),
  );
  server.listen(options.port ?? 8883, options.host);
  await once(server, 'listening');

  return {
    host: options.host,
    port: (server.address() as AddressInfo).port,
    counters,
    twin,
    patchDesired: (id, patch) => {
      const t = twin(id);
      merge(t.desired, patch);
      t.desired.$version++;
      const client = clients.get(id);
      if (client)
        send(
          client,
          `$iothub/twin/PATCH/properties/desired/?$version=${t.desired.$version}`,
          JSON.stringify({ ...patch, $version: t.desired.$version }),
        );
    },
    waitReported: (id, predicate, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (!predicate(twin(id).reported)) return;
          cleanup();
          resolve(twin(id).reported);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `reported properties of ${id}: condition not met: ${JSON.stringify(twin(id).reported)}`,
            ),
          );
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          reportedWaiters.delete(check);
        };
        reportedWaiters.add(check);
        check();
      }),
    invokeMethod: (id, name, payload, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const client = clients.get(id);
        if (!client) return reject(new Error(`${id} is not connected`));
        const rid = randomUUID();
        const timer = setTimeout(() => {
          pendingMethods.delete(rid);
          resolve({ status: 504, payload: { message: 'method timed out' } });
        }, timeoutMs);
        pendingMethods.set(rid, (r) => {
          clearTimeout(timer);
          resolve(r);
        });
        send(client, `$iothub/methods/POST/${name}/?$rid=${rid}`, JSON.stringify(payload ?? null));
      }),
    disconnectAll: () => {
      for (const c of clients.values()) c.conn.destroy();
    },
    connected: (id) => clients.has(id),
    close: async () => {
      for (const c of clients.values()) c.conn.destroy();
      await new Promise<void>((r) => broker.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
