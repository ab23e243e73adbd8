// Where the agent keeps its state under --home, laid out like a Wazuh agent's /var/ossec.
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
