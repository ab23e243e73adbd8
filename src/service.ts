// `install-service`: the systemd unit (conf/wazuh-bpf-agent.service) installed for this
// installation of the agent, its system user, and its configuration directory.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from './log.js';

export const SERVICE_NAME = 'wazuh-bpf-agent';
export const UNIT_TEMPLATE = new URL('../../conf/wazuh-bpf-agent.service', import.meta.url).pathname;

export interface UnitSettings {
  /** The command that runs the agent: node and this installation's cli.js. */
  command: string[];
  configFile: string;
  home: string;
  user: string;
}

/** The unit for these settings: ExecStart, User and Group replaced in the template, the rest kept. */
export function renderUnit(template: string, s: UnitSettings): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `"${a.replace(/(["\\])/g, '\\$1')}"`);
  const exec = [...s.command, '-c', s.configFile, '--home', s.home, 'run'].map(quote).join(' ');
  const replaced = template
    .replace(/^ExecStart=.*$/m, `ExecStart=${exec}`)
    .replace(/^User=.*$/m, `User=${s.user}`)
    .replace(/^Group=.*$/m, `Group=${s.user}`);
  for (const key of ['ExecStart', 'User', 'Group']) {
    if (!new RegExp(`^${key}=`, 'm').test(replaced)) throw new Error(`the unit template ${UNIT_TEMPLATE} has no ${key}= line`);
  }
  return replaced;
}

export interface InstallOptions {
  unitDir: string;
  configDir: string;
  /** The ossec.conf to install when configDir has none. */
  sourceConfig: string;
  home: string;
  user: string;
  start: boolean;
  /** This installation: node and cli.js. */
  command: string[];
  log: Logger;
}

export class ServiceError extends Error {}

function userIds(user: string): { uid: number; gid: number } | undefined {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const g = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** True when `user` can read `file` (every parent directory searchable to it). */
function readableBy(file: string, user: string): boolean {
  return spawnSync('setpriv', ['--reuid', user, '--regid', user, '--clear-groups', 'test', '-r', file]).status === 0;
}

export function installService(o: InstallOptions): { unitFile: string; configFile: string; started: boolean } {
  if (process.geteuid?.() !== 0) throw new ServiceError('install-service must run as root (it creates a system user and writes the unit).');
  let ids = userIds(o.user);
  if (!ids) {
    execFileSync('useradd', ['--system', '--home-dir', o.home, '--no-create-home', '--shell', '/usr/sbin/nologin', o.user]);
    ids = userIds(o.user)!;
    o.log.info(`Created system user '${o.user}' (uid ${ids.uid}).`);
  }
  for (const file of o.command.slice(1)) {
    if (!readableBy(file, o.user)) {
      throw new ServiceError(
        `User '${o.user}' cannot read '${file}' (a parent directory is closed to it). Install the agent where the service can reach it ` +
          `(e.g. as root: npm install -g --install-links . puts it under /usr/local/lib/node_modules), then run install-service from there.`,
      );
    }
  }
  fs.mkdirSync(o.configDir, { recursive: true, mode: 0o750 });
  fs.chownSync(o.configDir, 0, ids.gid);
  const configFile = path.join(o.configDir, 'ossec.conf');
  if (!fs.existsSync(configFile)) {
    fs.copyFileSync(o.sourceConfig, configFile);
    o.log.info(`Installed ${o.sourceConfig} as ${configFile}; edit <server><address> and <enrollment> for your manager.`);
  } else o.log.info(`Keeping the existing ${configFile}.`);
  fs.chownSync(configFile, 0, ids.gid);
  fs.chmodSync(configFile, 0o640);
  const unitFile = path.join(o.unitDir, `${SERVICE_NAME}.service`);
  fs.mkdirSync(o.unitDir, { recursive: true });
  const unit = renderUnit(fs.readFileSync(UNIT_TEMPLATE, 'utf8'), { command: o.command, configFile, home: o.home, user: o.user });
  fs.writeFileSync(unitFile, unit, { mode: 0o644 });
  o.log.info(`Wrote ${unitFile} (ExecStart: ${o.command.join(' ')}).`);
  const systemdRuns = fs.existsSync('/run/systemd/system');
  if (o.start && systemdRuns) {
    execFileSync('systemctl', ['daemon-reload']);
    execFileSync('systemctl', ['enable', '--now', SERVICE_NAME]);
    o.log.info(`Enabled and started ${SERVICE_NAME}: journalctl -u ${SERVICE_NAME}, ${o.home}/logs/ossec.log.`);
    return { unitFile, configFile, started: true };
  }
  o.log.info(
    systemdRuns
      ? `Not started (--no-start): systemctl daemon-reload && systemctl enable --now ${SERVICE_NAME}`
      : `systemd is not running here; on a systemd host: systemctl daemon-reload && systemctl enable --now ${SERVICE_NAME}`,
  );
  return { unitFile, configFile, started: false };
}
