// Where the REAL Wazuh managers of the e2e tests are (built by ../shared/wazuh-manager in CI, or
// `docker compose up` for users), and the check that they are there: no manager = failure, not a
// skip. The cluster failover test uses a second manager standing for a cluster's second node (its
// own prefix and ports, the first one's client.keys), and stops and starts nodes through the
// recipe's start.sh / stop.sh.
//
//   WAZUH_MANAGER_ADDRESS (127.0.0.1)  WAZUH_AUTHD_PASSWORD (TestPass123)
//   WAZUH_TEST_HOME (/opt/wazuh-test)  WAZUH_ALERTS_JSON (<WAZUH_TEST_HOME>/logs/alerts/alerts.json)
//   WAZUH_SECOND_HOME (/opt/wazuh-test2)  WAZUH_SECOND_REMOTED_PORT (11514)  WAZUH_SECOND_AUTHD_PORT (11515)
//   WAZUH_MANAGER_DIR: the directory of start.sh and stop.sh (.ci/run sets it; no default)
import { execFile } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { agentConf } from './manager.js';

export const ADDRESS = process.env.WAZUH_MANAGER_ADDRESS ?? '127.0.0.1';
export const PASSWORD = process.env.WAZUH_AUTHD_PASSWORD ?? 'TestPass123';

/** One manager installed by the recipe: its prefix, its ports, its alerts. */
export interface ManagerNode {
  home: string;
  remotedPort: number;
  authdPort: number;
  alerts: string;
}

const FIRST_HOME = process.env.WAZUH_TEST_HOME ?? '/opt/wazuh-test';
export const FIRST: ManagerNode = {
  home: FIRST_HOME,
  remotedPort: 1514,
  authdPort: 1515,
  alerts: process.env.WAZUH_ALERTS_JSON ?? path.join(FIRST_HOME, 'logs/alerts/alerts.json'),
};
export const ALERTS = FIRST.alerts;

const SECOND_HOME = process.env.WAZUH_SECOND_HOME ?? '/opt/wazuh-test2';
/** A cluster's second node: the recipe's second manager, sharing the first one's client.keys. */
export const SECOND: ManagerNode = {
  home: SECOND_HOME,
  remotedPort: Number(process.env.WAZUH_SECOND_REMOTED_PORT ?? 11514),
  authdPort: Number(process.env.WAZUH_SECOND_AUTHD_PORT ?? 11515),
  alerts: path.join(SECOND_HOME, 'logs/alerts/alerts.json'),
};

export function reachable(port: number, host = ADDRESS): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
    s.setTimeout(3000, () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** Throws unless the node's remoted and authd answer at ADDRESS. */
export async function requireManager(node = FIRST): Promise<void> {
  for (const port of [node.remotedPort, node.authdPort]) {
    if (!(await reachable(port))) {
      throw new Error(`no Wazuh manager (${node.home}) at ${ADDRESS}:${port}: start one (../shared/wazuh-manager/start.sh, or docker compose up)`);
    }
  }
}

/** The recipe's directory; throws when WAZUH_MANAGER_DIR is not set (a failure, not a skip). */
export function managerScripts(): string {
  const dir = process.env.WAZUH_MANAGER_DIR;
  if (!dir) throw new Error('WAZUH_MANAGER_DIR is not set: the directory of the Wazuh manager recipe (start.sh, stop.sh), as .ci/run sets it');
  return dir;
}

/** Starts or stops a node with the recipe's start.sh / stop.sh; rejects with their output when they fail. */
export async function controlManager(node: ManagerNode, action: 'start' | 'stop'): Promise<void> {
  const script = path.join(managerScripts(), `${action}.sh`);
  await promisify(execFile)(script, { env: { ...process.env, WAZUH_TEST_HOME: node.home } });
}

/**
 * An agent ossec.conf for the real managers: `nodes` as its <server>s in failover order,
 * enrollment with the first node, keepalives every 5 s, a <syscheck> with `directories` (lines
 * of <directories>) scanned twice a day.
 */
export function realAgentConf(o: { nodes?: ManagerNode[]; agentName: string; passwordFile: string; directories: string[] }): string {
  return agentConf({
    servers: (o.nodes ?? [FIRST]).map((n) => ({ address: ADDRESS, port: n.remotedPort })),
    authdAddress: ADDRESS,
    authdPort: FIRST.authdPort,
    passwordFile: o.passwordFile,
    agentName: o.agentName,
    notifyTime: 5,
    timeReconnect: 30,
    extra: `  <syscheck>
    <frequency>43200</frequency>
${o.directories.map((d) => `    ${d}`).join('\n')}
  </syscheck>`,
  });
}
