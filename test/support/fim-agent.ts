// The agent in the test process with a <syscheck> block, enrolling with a test manager: for tests
// that read its log records as they come (the CLI as a child process is cli.ts's).
import fs from 'node:fs';
import path from 'node:path';
import { Agent } from '../../src/agent.js';
import { parseAgentConfig } from '../../src/config/load.js';
import { readHostInfo } from '../../src/host.js';
import { MemoryLogger } from '../../src/log.js';
import { TEST_PASSWORD, TestManager, agentConf } from './manager.js';

/** The agent, not started yet (a test keeps it to stop it whatever happens), its files under `dir`. */
export function fimAgent(manager: TestManager, dir: string, syscheck: string): { agent: Agent; log: MemoryLogger } {
  const passwordFile = path.join(dir, 'authd.pass');
  fs.writeFileSync(passwordFile, `${TEST_PASSWORD}\n`);
  const conf = agentConf({
    servers: [{ port: manager.remoted.tcpPort }], authdPort: manager.authd.port, passwordFile, notifyTime: 2, extra: syscheck,
  });
  const log = new MemoryLogger();
  const agent = new Agent({
    config: parseAgentConfig(conf, path.join(dir, 'ossec.conf')), home: path.join(dir, 'home'), log,
    reportedVersion: 'v4.14.7', host: readHostInfo(), handshakeTimeoutMs: 3000,
  });
  return { agent, log };
}
