// The manager-name check a Wazuh agent applies to authd's certificate when server_ca_path is set.
//
// Wazuh does not use OpenSSL's host-name verification here: after the chain has been verified
// against the CA, shared/enrollment_op.c (w_enrollment_verify_ca_certificate) calls its own
// check_x509_cert (os_auth/check_cert.c) with the manager address exactly as configured. That
// check, mirrored below:
// - looks at subjectAltName first: DNS entries are compared label by label with the address,
//   IP entries byte for byte (an IPv4 address only matches a 4-byte entry, IPv6 a 16-byte one);
// - if no subjectAltName entry matches (also when there are some), every subject CN is compared
//   label by label; so a CN of "127.0.0.1" does match the address 127.0.0.1;
// - label comparison is case-insensitive, a trailing '.' is ignored, both names need the same
//   number of labels, and a certificate label of exactly "*" in first position matches any valid
//   first label (no partial wildcards). Labels of the address must be RFC 1035-like: letters,
//   digits and '-', ending in a letter or digit, at most 63 characters, at most 127 labels.
// Without server_ca_path Wazuh checks nothing ("Registering agent to unverified manager").
import net from 'node:net';
import type { PeerCertificate } from 'node:tls';

const MAX_LABELS = 127;
const MAX_LABEL_LENGTH = 63;

/** The '.'-separated labels of a name (one trailing empty label dropped); undefined if over Wazuh's limits. */
function labelsOf(name: string): string[] | undefined {
  const labels = name.split('.');
  if (labels.length > 1 && labels[labels.length - 1] === '') labels.pop();
  if (labels.length > MAX_LABELS || labels.some((l) => l.length > MAX_LABEL_LENGTH)) return undefined;
  return labels;
}

function isValidLabel(label: string): boolean {
  return /^[A-Za-z0-9-]*[A-Za-z0-9]$/.test(label) && label.length <= MAX_LABEL_LENGTH;
}

/** check_hostname: does a certificate name (SAN DNS entry or CN) match the manager address? */
export function certificateNameMatches(certificateName: string, manager: string): boolean {
  const cert = labelsOf(certificateName);
  const wanted = labelsOf(manager);
  if (!cert || !wanted || wanted[0] === '' || cert[0] === '' || cert.length !== wanted.length) return false;
  const start = cert[0] === '*' && isValidLabel(wanted[0]) ? 1 : 0;
  for (let i = start; i < wanted.length; i++) {
    if (!isValidLabel(wanted[i]) || wanted[i].toLowerCase() !== cert[i].toLowerCase()) return false;
  }
  return true;
}

/** check_ipaddr: the same address in the same family (compared as numbers, not as text). */
function sameIpAddress(certificateIp: string, manager: string): boolean {
  const family = net.isIP(manager);
  if (family === 0 || net.isIP(certificateIp) !== family) return false;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const list = new net.BlockList();
  list.addAddress(certificateIp, type);
  return list.check(manager, type);
}

interface AltName {
  type: string;
  value: string;
}

/** Node renders subjectAltName as `DNS:a, IP Address:1.2.3.4`, JSON-quoting values with odd characters. */
function altNamesOf(cert: PeerCertificate): AltName[] {
  const names: AltName[] = [];
  const entry = /([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  for (const m of (cert.subjectaltname ?? '').matchAll(entry)) {
    names.push({ type: m[1], value: m[2].startsWith('"') ? (JSON.parse(m[2]) as string) : m[2] });
  }
  return names;
}

function commonNamesOf(cert: PeerCertificate): string[] {
  const cn: string | string[] | undefined = cert.subject?.CN; // Node gives an array when there are several
  return cn === undefined ? [] : Array.isArray(cn) ? cn : [cn];
}

/**
 * Wazuh's manager-name check, shaped like Node's `checkServerIdentity`: undefined when the
 * certificate names the manager, otherwise an Error saying which names it carries.
 */
export function checkManagerIdentity(manager: string, cert: PeerCertificate): Error | undefined {
  const altNames = altNamesOf(cert);
  const altNameMatches = altNames.some((n) =>
    n.type === 'DNS' ? certificateNameMatches(n.value, manager) : n.type === 'IP Address' && sameIpAddress(n.value, manager));
  const commonNames = commonNamesOf(cert);
  if (altNameMatches || commonNames.some((cn) => certificateNameMatches(cn, manager))) return undefined;
  const carried = [...altNames.map((n) => `${n.type}:${n.value}`), ...commonNames.map((cn) => `CN=${cn}`)];
  return new Error(`the certificate is not for '${manager}' (it names ${carried.length > 0 ? carried.join(', ') : 'nothing'})`);
}
