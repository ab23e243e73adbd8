// Where the agent keeps its state under --home, laid out like a Wazuh agent's /var/ossec.
// Nothing here is open to other users: the CLI makes the home 0750 and the agent's own before
// anything else (security.ts, secureHome); each module creates its directory 0750, or 0700 when
// only the agent's user may enter (self-test, diff scratch, spool: ensurePrivateDir), and its
// secrets 0640 (client.keys, counters) or 0600 (FIM database, diff copies).
import path from 'node:path';

export const DEFAULT_HOME = '/var/lib/wazuh-bpf-agent';

export interface AgentPaths {
  home: string;
  clientKeys: string;
  ridsDir: string;
  sharedDir: string;
  logsDir: string;
  queueSocket: string;
  fimDb: string;
  diffDir: string;
  captureSelfTestDir: string;
  spoolDir: string;
}

export function agentPaths(home: string): AgentPaths {
  const h = path.resolve(home);
  return {
    home: h,
    clientKeys: path.join(h, 'etc', 'client.keys'),
    ridsDir: path.join(h, 'queue', 'rids'),
    sharedDir: path.join(h, 'shared'),
    logsDir: path.join(h, 'logs'),
    queueSocket: path.join(h, 'queue', 'sockets', 'queue'),
    fimDb: path.join(h, 'queue', 'fim', 'db', 'fim.db'),
    diffDir: path.join(h, 'queue', 'diff'),
    captureSelfTestDir: path.join(h, 'tmp', 'capture-selftest'),
    spoolDir: path.join(h, 'queue', 'spool'),
  };
}
