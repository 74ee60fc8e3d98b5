// The server's TLS settings (ssl_* directives) → native ServerTlsConfig.
import type { NginxDirective } from './ast.js';
import type { CompileContext } from './context.js';
import type { ServerTlsConfig } from './native-types.js';
import { fileRef } from './paths.js';
import type { Settings } from './settings.js';

export function compileServerTls(
  ctx: CompileContext,
  s: Settings,
  confDir: string,
  listen: NginxDirective,
): ServerTlsConfig {
  const cert = s.sslCertificate;
  if (!cert) ctx.fail('no "ssl_certificate" is defined for the "listen ... ssl" directive', listen);
  const key = s.sslCertificateKey;
  if (!key) ctx.fail(`no "ssl_certificate_key" is defined for certificate "${cert.value}"`, cert);
  for (const a of [cert, key]) {
    if (a.value.includes('$')) ctx.fail('variables in certificate paths are not supported', a);
  }
  const certRef = fileRef(cert.value, confDir);
  const keyRef = fileRef(key.value, confDir);
  const tls: ServerTlsConfig = {
    certificate: {
      ...('file' in certRef ? { certFile: certRef.file } : { cert: certRef.inline }),
      ...('file' in keyRef ? { keyFile: keyRef.file } : { key: keyRef.inline }),
    },
  };
  if (s.sslProtocols) {
    tls.minVersion = s.sslProtocols.min;
    tls.maxVersion = s.sslProtocols.max;
  }
  if (s.sslCiphers !== undefined) tls.ciphers = s.sslCiphers;
  const mode = s.sslVerifyClient ?? 'off';
  const ca = s.sslClientCertificate;
  if ((mode === 'required' || mode === 'optional') && !ca) {
    ctx.fail('no ssl_client_certificate for ssl_verify_client', listen);
  }
  if (mode !== 'off') {
    const client: NonNullable<ServerTlsConfig['clientCertificate']> = { mode };
    if (ca) {
      const ref = fileRef(ca.value, confDir);
      if ('file' in ref) client.caFile = ref.file;
      else client.ca = ref.inline;
    }
    if (s.sslVerifyDepth !== undefined) client.verifyDepth = s.sslVerifyDepth;
    tls.clientCertificate = client;
  }
  return tls;
}
