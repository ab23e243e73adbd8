// What the agent's log says about delivery and failover, for the tests that take managers away.

/** Events the agent's log says it sends again: unconfirmed when a connection died or the agent stopped. */
export function resentEvents(log: string): number {
  return [...log.matchAll(/(\d+) events (?:sent but not confirmed by the manager will be sent again|not confirmed by the manager before the agent stopped)/g)]
    .reduce((a, m) => a + Number(m[1]), 0);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The lines, in order, of a failover from the server at `address`:`fromPort` to the next one at
 * `toPort`, in Wazuh's words (client-agent/receiver.c, start_agent.c; error_messages.h).
 */
export function failoverLines(address: string, fromPort: number, toPort: number): RegExp {
  const ip = escape(address);
  const lines = [
    String.raw`ERROR: \(1137\): Lost connection with manager\. Setting lock\.`,
    String.raw`ERROR: \(1216\): Unable to connect to '\[${ip}\]:${fromPort}/tcp'`,
    String.raw`WARNING: \(4101\): Waiting for server reply \(not started\)\. Tried: '${ip}'\.`,
    String.raw`INFO: Trying next server ip in the line: '${ip}'\.`,
    String.raw`INFO: \(4102\): Connected to the server \(\[${ip}\]:${toPort}/tcp\)\.`,
    String.raw`INFO: Server responded\. Releasing lock\.`,
  ];
  return new RegExp(lines.join(String.raw`[\s\S]*`));
}
