// `edgemicro token decode|verify|get` (reference §3): decode a JWT from a file, verify its RS256
// signature and times against the org's jwt_public_key, or get one with client credentials.
import { createPublicKey, createVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { configDir, sourceConfigPath } from '../config/locations.js';
import { replaceEnvTags } from '../config/env-tags.js';
import { readYamlFile } from '../config/yaml-file.js';
import { redact } from '../control-plane/edge-client.js';
import { parseArgs, UsageError } from './args.js';

const OPTIONS = [
  { short: 'f', long: 'file' },
  { short: 'o', long: 'org' },
  { short: 'e', long: 'env' },
  { short: 'c', long: 'configDir' },
  { short: 'i', long: 'id' },
  { short: 's', long: 'secret' },
];

interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signed: string;
  signature: Buffer;
}

/** Split and decode a compact JWT; throws naming what is wrong. */
function decodeJwt(token: string): DecodedJwt {
  const parts = token.trim().split('.');
  if (parts.length !== 3) throw new UsageError('not a JWT: expected three dot-separated parts');
  const part = (s: string, name: string): Record<string, unknown> => {
    if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new UsageError(`not a JWT: the ${name} is not base64url`);
    let v: unknown;
    try {
      v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    } catch {
      throw new UsageError(`not a JWT: the ${name} is not JSON`);
    }
    if (!v || typeof v !== 'object' || Array.isArray(v))
      throw new UsageError(`not a JWT: the ${name} is not an object`);
    return v as Record<string, unknown>;
  };
  if (!/^[A-Za-z0-9_-]*$/.test(parts[2]!)) throw new UsageError('not a JWT: the signature is not base64url');
  return {
    header: part(parts[0]!, 'header'),
    payload: part(parts[1]!, 'payload'),
    signed: `${parts[0]}.${parts[1]}`,
    signature: Buffer.from(parts[2]!, 'base64url'),
  };
}

function readToken(file: string | undefined): string {
  if (!file) throw new UsageError('missing -f file (the file holding the token)');
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function edgeConfig(values: Record<string, string | true>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const org = typeof values.org === 'string' ? values.org : env.EDGEMICRO_ORG;
  const e = typeof values.env === 'string' ? values.env : env.EDGEMICRO_ENV;
  if (!org || !e) throw new UsageError('missing -o org or -e env');
  const dir = configDir(typeof values.configDir === 'string' ? values.configDir : undefined, env);
  const doc = readYamlFile(sourceConfigPath(dir, org, e));
  const cfg = replaceEnvTags(doc.value, env).value as { edge_config?: Record<string, unknown> };
  return cfg.edge_config ?? {};
}

export async function tokenCommand(
  sub: string | undefined,
  argv: string[],
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const { values } = parseArgs(argv, OPTIONS);
  const file = typeof values.file === 'string' ? values.file : undefined;
  switch (sub) {
    case 'decode': {
      const jwt = decodeJwt(readToken(file));
      console.log(JSON.stringify({ header: jwt.header, payload: jwt.payload }, null, 2));
      return 0;
    }
    case 'verify': {
      const jwt = decodeJwt(readToken(file));
      if (jwt.header.alg !== 'RS256')
        throw new UsageError(`unsupported alg ${JSON.stringify(jwt.header.alg)} (RS256 only)`);
      const url = edgeConfig(values, env).jwt_public_key;
      if (typeof url !== 'string') throw new UsageError('config.edge_config.jwt_public_key is not defined');
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      if (res.status !== 200) throw new UsageError(`${redact(url)}: HTTP ${res.status}`);
      const key = createPublicKey(await res.text());
      const ok = createVerify('RSA-SHA256').update(jwt.signed).verify(key, jwt.signature);
      const now = Date.now() / 1000;
      const exp = typeof jwt.payload.exp === 'number' ? jwt.payload.exp : undefined;
      const nbf = typeof jwt.payload.nbf === 'number' ? jwt.payload.nbf : undefined;
      if (!ok) return (console.error('edgemicro: token signature is invalid'), 1);
      if (exp !== undefined && exp < now) return (console.error('edgemicro: token expired'), 1);
      if (nbf !== undefined && nbf > now) return (console.error('edgemicro: token not yet valid'), 1);
      console.log('token is valid');
      return 0;
    }
    case 'get': {
      const id = typeof values.id === 'string' ? values.id : undefined;
      const secret = typeof values.secret === 'string' ? values.secret : undefined;
      if (!id || !secret) throw new UsageError('missing -i client id or -s client secret');
      const pk = edgeConfig(values, env).jwt_public_key;
      if (typeof pk !== 'string') throw new UsageError('config.edge_config.jwt_public_key is not defined');
      const url = pk.replace(/\/publicKey$/, '/token');
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: id, client_secret: secret, grant_type: 'client_credentials' }),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      if (res.status !== 200) throw new UsageError(`${redact(url)}: HTTP ${res.status}`);
      console.log(text);
      return 0;
    }
    default:
      throw new UsageError('token: expected decode, verify or get');
  }
}
