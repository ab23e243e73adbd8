// What the keepalive says about this machine, read once at start.
import fs from 'node:fs';
import os from 'node:os';
import { HostInfo, parseOsRelease } from './wazuh/messages.js';

export function readHostInfo(): HostInfo {
  let osText: string | undefined;
  for (const f of ['/etc/os-release', '/usr/lib/os-release']) {
    try {
      osText = fs.readFileSync(f, 'utf8');
      break;
    } catch {
      // try the next one, as Wazuh does
    }
  }
  return {
    sysname: os.type(),
    nodename: os.hostname(),
    release: os.release(),
    version: os.version(),
    machine: os.machine(),
    os: osText === undefined ? undefined : parseOsRelease(osText),
  };
}
