// The TLS part of the public API (`tls` in @gatehouse/core): development certificates (a CA, leaf
// certificates, encrypted keys, PKCS#12) and the error Gatehouse.updateCertificate throws for a
// refused pair. Listener and upstream TLS plumbing stays internal (tls/index.ts).
export {
  createCertificateAuthority,
  issueCertificate,
  encryptPrivateKey,
  toPkcs12,
  splitPemCertificates,
  type IssuedCertificate,
  type CertificateAuthority,
  type CertificateAuthorityOptions,
  type IssueOptions,
} from './pki.js';
export { CertificateError, type CertificateErrorCode, type CertificateInfo } from './certificate-store.js';
