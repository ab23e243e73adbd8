// Test certificates: a CA, server and client certificates signed by it, and self-signed ones.
// Keys come from Node's native RSA generator (fast) and are cached per label for the whole test
// run; node-forge only assembles and signs the certificates. Distinct CAs get distinct labels, so
// "another CA" never shares a key with the real one.
import crypto from 'node:crypto';
import forge from 'node-forge';

export interface Pem {
  cert: string;
  key: string;
}

export interface CertificateNames {
  commonName: string;
  dnsNames?: string[];
  ips?: string[];
}

const keyCache = new Map<string, { privateKeyPem: string; publicKeyPem: string }>();

/** An RSA-2048 key pair, generated once per label per process. */
function keyPair(label: string): { privateKeyPem: string; publicKeyPem: string } {
  let pair = keyCache.get(label);
  if (!pair) {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    pair = {
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
    keyCache.set(label, pair);
  }
  return pair;
}

type Extension = Record<string, unknown>;

function buildCertificate(
  subjectCn: string,
  keyLabel: string,
  issuer: { cert: forge.pki.Certificate; keyPem: string } | undefined,
  extensions: Extension[],
): Pem {
  const pair = keyPair(keyLabel);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(pair.publicKeyPem);
  cert.serialNumber = `01${crypto.randomBytes(8).toString('hex')}`; // leading 01: positive serial
  cert.validity.notBefore = new Date(Date.now() - 24 * 3600 * 1000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 24 * 3600 * 1000);
  const subject = [{ name: 'commonName', value: subjectCn }, { name: 'organizationName', value: 'wazuh-bpf-agent tests' }];
  cert.setSubject(subject);
  cert.setIssuer(issuer ? issuer.cert.subject.attributes : subject);
  cert.setExtensions([{ name: 'subjectKeyIdentifier' }, ...extensions]);
  cert.sign(forge.pki.privateKeyFromPem(issuer?.keyPem ?? pair.privateKeyPem), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: pair.privateKeyPem };
}

function signerOf(ca: Pem): { cert: forge.pki.Certificate; keyPem: string } {
  return { cert: forge.pki.certificateFromPem(ca.cert), keyPem: ca.key };
}

function subjectAltName(names: CertificateNames): Extension[] {
  const altNames = [
    ...(names.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(names.ips ?? []).map((ip) => ({ type: 7, ip })),
  ];
  return altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : [];
}

/** A self-signed CA; `label` keeps CAs apart (each label has its own key). */
export function createCa(label = 'ca', commonName = `Test CA ${label}`): Pem {
  return buildCertificate(commonName, label, undefined, [
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ]);
}

/** A TLS server certificate signed by `ca`; by default for localhost / 127.0.0.1. */
export function createServerCert(
  ca: Pem,
  names: CertificateNames = { commonName: 'localhost', dnsNames: ['localhost'], ips: ['127.0.0.1'] },
): Pem {
  return buildCertificate(names.commonName, 'server', signerOf(ca), [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    ...subjectAltName(names),
  ]);
}

/** A self-signed server certificate (no CA behind it). */
export function createSelfSignedCert(
  names: CertificateNames = { commonName: 'localhost', dnsNames: ['localhost'], ips: ['127.0.0.1'] },
): Pem {
  return buildCertificate(names.commonName, 'self-signed', undefined, [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    ...subjectAltName(names),
  ]);
}

/** A TLS client (agent) certificate signed by `ca`. */
export function createClientCert(ca: Pem, commonName = 'test-agent'): Pem {
  return buildCertificate(commonName, 'client', signerOf(ca), [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
}
