// The in-process test manager: TestAuthd (enrollment) + TestRemoted (sessions), sharing one
// client.keys, with a helper to write an ossec.conf that points an agent at it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestAuthd } from './authd.js';
import { createCa, createServerCert, Pem } from './pki.js';
import { TestRemoted, TestRemotedOptions } from './remoted.js';

export const TEST_PASSWORD = 'TestPass123';

export class TestManager {
  readonly ca: Pem = createCa('manager-ca');
  readonly authd: TestAuthd;
  readonly remoted: TestRemoted;

  constructor(remotedOptions: Omit<TestRemotedOptions, 'keys'> = {}) {
    const server = createServerCert(this.ca);
    this.authd = new TestAuthd({ cert: server.cert, key: server.key, password: TEST_PASSWORD });
    this.remoted = new TestRemoted({ ...remotedOptions, keys: () => this.authd.keys });
  }

  async start(): Promise<this> {
    await this.authd.start();
    await this.remoted.start();
    return this;
  }

  async stop(): Promise<void> {
    await this.remoted.stop();
    await this.authd.stop();
  }
}

/** A fresh temporary directory, removed by the returned cleanup function. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface AgentConfOptions {
  servers: { port: number; protocol?: 'tcp' | 'udp'; address?: string }[];
  authdPort: number;
  /** authd's address (127.0.0.1). */
  authdAddress?: string;
  passwordFile: string;
  caFile?: string;
  agentName?: string;
  notifyTime?: number;
  timeReconnect?: number;
  extra?: string;
}

/** An agent ossec.conf for the test manager: fast retries, enrollment without delay. */
export function agentConf(o: AgentConfOptions): string {
  const servers = o.servers
    .map(
      (s) => `    <server>
      <address>${s.address ?? '127.0.0.1'}</address>
      <port>${s.port}</port>
      <protocol>${s.protocol ?? 'tcp'}</protocol>
      <max_retries>2</max_retries>
      <retry_interval>1</retry_interval>
    </server>`,
    )
    .join('\n');
  return `<ossec_config>
  <client>
${servers}
    <notify_time>${o.notifyTime ?? 1}</notify_time>
    <time-reconnect>${o.timeReconnect ?? 5}</time-reconnect>
    <enrollment>
      <enabled>yes</enabled>
      <manager_address>${o.authdAddress ?? '127.0.0.1'}</manager_address>
      <port>${o.authdPort}</port>
      <agent_name>${o.agentName ?? 'it-agent'}</agent_name>
      <authorization_pass_path>${o.passwordFile}</authorization_pass_path>
${o.caFile ? `      <server_ca_path>${o.caFile}</server_ca_path>\n` : ''}      <delay_after_enrollment>1</delay_after_enrollment>
    </enrollment>
  </client>
  <client_buffer>
    <disabled>no</disabled>
    <queue_size>5000</queue_size>
    <events_per_second>500</events_per_second>
  </client_buffer>
${o.extra ?? ''}
</ossec_config>
`;
}
