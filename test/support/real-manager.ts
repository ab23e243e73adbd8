// Where the REAL Wazuh manager of the e2e tests is (built by ../shared/wazuh-manager in CI, or
// `docker compose up` for users), and the check that it is there: no manager = failure, not a skip.
//
//   WAZUH_MANAGER_ADDRESS (127.0.0.1)  WAZUH_AUTHD_PASSWORD (TestPass123)
//   WAZUH_ALERTS_JSON (/opt/wazuh-test/logs/alerts/alerts.json)
import net from 'node:net';

export const ADDRESS = process.env.WAZUH_MANAGER_ADDRESS ?? '127.0.0.1';
export const PASSWORD = process.env.WAZUH_AUTHD_PASSWORD ?? 'TestPass123';
export const ALERTS = process.env.WAZUH_ALERTS_JSON ?? '/opt/wazuh-test/logs/alerts/alerts.json';

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

/** Throws unless remoted (1514) and authd (1515) answer at ADDRESS. */
export async function requireManager(): Promise<void> {
  for (const port of [1514, 1515]) {
    if (!(await reachable(port))) {
      throw new Error(`no Wazuh manager at ${ADDRESS}:${port}: start one (../shared/wazuh-manager/start.sh, or docker compose up)`);
    }
  }
}
