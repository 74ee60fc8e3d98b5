// The module's SAS token, as the Rust module makes it for nginx's auth_request (§1.5): audience
// `{hub}/devices/{device}/modules/{module}` percent-encoded with IoT Hub's set, lower-cased, slashes
// kept; `sr + "\n" + se` signed by the workload API; `SharedAccessSignature sr=…&sig=…&se=…`.

// Control characters, space, " < > ` # ? { } and $ (IOTHUB_ENCODE_SET), and every non-ASCII byte.
function pct(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out +=
      b <= 0x20 || b >= 0x7f || '"<>`#?{}$'.includes(c)
        ? `%${b.toString(16).toUpperCase().padStart(2, '0')}`
        : c;
  }
  return out;
}

/** The resource URI (`sr`) of a module identity's token. */
export function moduleResourceUri(hubHostname: string, deviceId: string, moduleId: string): string {
  return pct(`${hubHostname}/devices/${pct(deviceId)}/modules/${pct(moduleId)}`.toLowerCase());
}

/** The string the workload API signs. */
export function stringToSign(resourceUri: string, expirySeconds: number): string {
  return `${resourceUri}\n${expirySeconds}`;
}

export function formatSasToken(resourceUri: string, signatureBase64: string, expirySeconds: number): string {
  return `SharedAccessSignature sr=${resourceUri}&sig=${encodeURIComponent(signatureBase64)}&se=${expirySeconds}`;
}
