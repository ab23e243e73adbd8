#!/usr/bin/env node
// wazuh-bpf-agent command line. Exit codes (also in README):
//   0 success · 1 unexpected failure · 2 bad configuration or usage (an unsafe ossec.conf or home
//   included) · 3 no usable key (enrollment failed or disabled, client.keys or the enrollment
//   password file malformed or unsafe)
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import koffi from 'koffi';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArgChoice, KernelReport, RenameChoice, probeKernel, probePrivileges } from './bpf/kernel.js';
import { Capture } from './capture/capture.js';
import { SERVICE_NAME, ServiceError, installService } from './service.js';
import { Agent, DEFAULT_SPOOL_BYTES, NoKeyError, readable } from './agent.js';
import { ConfigError, type ConfigWarning } from './config/errors.js';
import { loadAgentConfig } from './config/load.js';
import type { AgentConfig } from './config/types.js';
import { readHostInfo } from './host.js';
import { Logger, createLogger } from './log.js';
import { DEFAULT_HOME, agentPaths } from './paths.js';
import { UnsafePathError, secureHome } from './security.js';
import { EnrollmentError } from './wazuh/enroll.js';
import { KeysError, writeAgentKey } from './wazuh/keys.js';
import { DEFAULT_REPORTED_VERSION } from './wazuh/messages.js';

export const EXIT = { ok: 0, failure: 1, config: 2, noKey: 3 } as const;

const WAZUH_CONFIG = '/var/ossec/etc/ossec.conf';
const BUNDLED_CONFIG = new URL('../../conf/ossec.conf', import.meta.url).pathname;

interface GlobalOptions {
  config?: string;
  home: string;
  jsonLogs?: boolean;
  debug?: boolean;
  reportVersion: string;
  unlinkDentryArg?: 2 | 3;
  spoolSize: number;
}

function defaultConfigPath(): string {
  return readable(WAZUH_CONFIG) ? WAZUH_CONFIG : BUNDLED_CONFIG;
}

function context(cmd: Command): { opts: GlobalOptions; log: Logger; config: AgentConfig } {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  const config = loadAgentConfig(opts.config ?? defaultConfigPath());
  const paths = agentPaths(opts.home);
  const homeNarrowed = secureHome(paths.home);
  const log = createLogger({ logDir: paths.logsDir, json: opts.jsonLogs, debug: opts.debug });
  if (homeNarrowed) log.warn(homeNarrowed);
  logConfigWarnings(log, config.warnings);
  return { opts, log, config };
}

/** Each configuration warning at its Wazuh level (WARNING, ERROR; this agent's own remarks at INFO). */
function logConfigWarnings(log: Logger, warnings: readonly ConfigWarning[]): void {
  for (const w of warnings) {
    if (w.level === 'ERROR') log.error(w.text);
    else if (w.level === 'WARNING') log.warn(w.text);
    else log.info(w.text);
  }
}

/**
 * SIGTERM/SIGINT end the agent within this, whatever it is doing (systemd waits 90 s, Docker 10 s):
 * the agent's stop is bounded itself (Agent.stop); this is for what hangs even so (a stuck fsync).
 */
const STOP_DEADLINE_MS = 4_000;

/**
 * Ends the process at once, every thread with it (libc _exit(2), that is exit_group): process.exit()
 * waits for worker threads, and a hashing thread in a read of a filesystem that stopped answering
 * never returns to JavaScript, while the signal exit_group sends it ends the read. Called once the
 * stop closed what must be closed (the spool, the baseline), after the log records so far are out.
 */
async function exitNow(code: number): Promise<never> {
  // winston hands a record to its transports a turn of the event loop later
  await new Promise((resolve) => setImmediate(resolve));
  koffi.load('libc.so.6').func('void _exit(int)')(code);
  throw new Error('_exit returned');
}

async function runAgent(cmd: Command): Promise<number> {
  const { opts, log, config } = context(cmd);
  const agent = new Agent({ config, home: opts.home, log, reportedVersion: opts.reportVersion, host: readHostInfo(), unlinkDentryArg: opts.unlinkDentryArg,
    spoolMaxBytes: opts.spoolSize * (1 << 20),
  });
  log.info(`Started (pid: ${process.pid}). Configuration: ${config.file}. State: ${agent.paths.home}.`);
  if (!config.syscheck.disabled) {
    for (const gap of probePrivileges().missing) log.warn(`Capability ${gap.capability} is not effective: ${gap.effect}.`);
  }
  let stopping = false;
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`Received ${signal}. Stopping.`);
      // The spool and the FIM database survive a kill at any point, so nothing may hold a stop longer than this.
      setTimeout(() => {
        log.warn(`Stopping took more than ${STOP_DEADLINE_MS / 1000} s; exiting now. Unconfirmed events stay spooled for the next start.`);
        void exitNow(EXIT.ok);
      }, STOP_DEADLINE_MS).unref();
      agent.stop().then(
        () => log.info('Agent stopped.'),
        (e: unknown) => log.error(`Stopping failed: ${(e as Error).message}`),
      ).finally(resolve);
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
  await agent.start();
  await stopped;
  return exitNow(EXIT.ok);
}

async function enrollCommand(cmd: Command, cmdOpts: { force?: boolean; manager?: string }): Promise<number> {
  const { opts, log, config } = context(cmd);
  const agent = new Agent({ config, home: opts.home, log, reportedVersion: opts.reportVersion, host: readHostInfo() });
  const existing = agent.readKey();
  if (existing && !cmdOpts.force) {
    log.info(`Agent already enrolled as '${existing.name}' (ID ${existing.id}) in ${agent.paths.clientKeys}; use --force to enroll again.`);
    return EXIT.ok;
  }
  const address = cmdOpts.manager ?? config.client.enrollment.managerAddress ?? config.client.servers[0]!.address;
  const key = await agent.enrollWith(address);
  writeAgentKey(agent.paths.clientKeys, key);
  log.info(`Agent enrolled as '${key.name}' (ID ${key.id}); key written to ${agent.paths.clientKeys}.`);
  return EXIT.ok;
}

async function probeCommand(cmd: Command, cmdOpts: { json?: boolean }): Promise<number> {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  const log = createLogger({ json: opts.jsonLogs, debug: opts.debug, stderr: !cmdOpts.json });
  const kernel = probeKernel();
  const selfTestDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wazuh-bpf-agent-probe-'));
  let capture: Capture | undefined;
  try {
    capture = await Capture.start({ dirs: [], selfTestDir, log, modes: ['kprobe', 'fentry', 'tracepoint', 'inotify'], unlinkDentryArg: opts.unlinkDentryArg });
    const report: ProbeReport = {
      kernel,
      capture: { mode: capture.mode, unlinkDentryArg: capture.unlinkArg, rename: capture.renameAbi, attempts: capture.attempts },
    };
    process.stdout.write(cmdOpts.json ? `${JSON.stringify(report, null, 2)}\n` : formatProbe(report));
  } finally {
    await capture?.stop();
    fs.rmSync(selfTestDir, { recursive: true, force: true });
  }
  return EXIT.ok;
}

/** `probe --json`'s output. */
export interface ProbeReport {
  kernel: KernelReport;
  capture: { mode: string; unlinkDentryArg: ArgChoice | undefined; rename: RenameChoice | undefined; attempts: { mode: string; ok: boolean; reason: string }[] };
}

function formatProbe(r: ProbeReport): string {
  const k = r.kernel;
  const yes = (x: { ok: boolean; reason: string }) => `${x.ok ? 'yes' : 'no'} (${x.reason})`;
  return [
    `kernel release:        ${k.release}`,
    `BTF:                   ${k.btf.present ? `yes (${k.btf.path})` : 'no'}`,
    `vfs_unlink dentry arg: ${r.capture.unlinkDentryArg?.index} (from ${r.capture.unlinkDentryArg?.source}: ${r.capture.unlinkDentryArg?.detail})`,
    `vfs_rename:            ${k.vfsRename.abi} (from ${k.vfsRename.source})`,
    `kprobes:               ${yes(k.kprobes)}`,
    `fentry:                ${yes(k.fentry)}`,
    `syscall tracepoints:   ${yes(k.tracepoints)}`,
    `ring buffer:           ${yes(k.ringbuf)}`,
    `LSMs:                  ${k.lsm.join(',') || 'unknown'}`,
    `privileges:            ${yes(k.privileges)}`,
    ...k.privileges.missing.map((g) => `  missing ${g.capability}: ${g.effect}`),
    `capture mode:          ${r.capture.mode}`,
    ...r.capture.attempts.map((a) => `  ${a.ok ? 'ok  ' : 'fail'} ${a.mode}: ${a.reason}`),
    '',
  ].join('\n');
}

/**
 * Prints every warning (level, Wazuh's message, file, line, option) on stderr and the effective
 * configuration on stdout. With `strict`, a WARNING or ERROR (what a Wazuh daemon would log; not
 * this agent's INFO remarks) makes the file refused: exit 2, no configuration printed.
 */
function checkConfigCommand(cmd: Command, o: { strict?: boolean }): number {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  const config = loadAgentConfig(opts.config ?? defaultConfigPath());
  for (const w of config.warnings) process.stderr.write(`${w.level}: ${w.text}\n`);
  const counted = config.warnings.filter((w) => w.level !== 'INFO').length;
  if (o.strict && counted > 0) {
    process.stderr.write(`wazuh-bpf-agent: ERROR: ${config.file}: ${counted} warning${counted === 1 ? '' : 's'}, refused (--strict).\n`);
    return EXIT.config;
  }
  process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
  return EXIT.ok;
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('wazuh-bpf-agent')
    .description('File-integrity agent for Wazuh managers (Wazuh 4.x agent protocol, eBPF who-data)')
    .version(`${packageVersion()} (Wazuh agent protocol, reports ${DEFAULT_REPORTED_VERSION} by default)`, '-V, --version')
    .option('-c, --config <ossec.conf>', `agent configuration (default: ${WAZUH_CONFIG} if present, else the bundled conf/ossec.conf)`)
    .option('--home <dir>', 'state directory: client.keys, counters, shared files, logs', DEFAULT_HOME)
    .option('--json-logs', 'write logs as JSON lines (ossec.json) instead of ossec.log lines')
    .option('-d, --debug', 'debug logging')
    .addOption(
      new Option('--report-version <version>', 'Wazuh version announced to the manager (managers refuse newer agents)').default(
        DEFAULT_REPORTED_VERSION,
      ),
    )
    .addOption(
      new Option('--unlink-dentry-arg <n>', "override vfs_unlink's struct dentry * argument (2 before Linux 5.12, 3 since); default: read from BTF")
        .argParser((v) => {
          if (v !== '2' && v !== '3') throw new InvalidArgumentError('must be 2 or 3.');
          return Number(v) as 2 | 3;
        }),
    )
    .showHelpAfterError()
    .exitOverride();

  program
    .command('run')
    .description('enroll if needed, connect to the manager and run until SIGTERM/SIGINT')
    .addOption(
      new Option('--spool-size <MiB>', 'size limit of the durable event spool (<home>/queue/spool); when full, the oldest events are dropped and reported')
        .default(DEFAULT_SPOOL_BYTES >> 20)
        .argParser((v) => {
          const n = Number(v);
          if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of MiB, at least 1.');
          return n;
        }),
    )
    .action(async (_o, cmd: Command) => setExit(await runAgent(cmd)));
  program
    .command('enroll')
    .description('request a key from wazuh-authd and write client.keys (0640)')
    .option('--force', 'enroll again even if client.keys already holds a key')
    .option('--manager <address>', 'enrollment server (default: <enrollment><manager_address>, else the first <server>)')
    .action(async (o: { force?: boolean; manager?: string }, cmd: Command) => setExit(await enrollCommand(cmd, o)));
  program
    .command('probe')
    .description('report what this kernel offers (BTF, kprobes, fentry, tracepoints, vfs_unlink layout) and the capture mode that works')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }, cmd: Command) => setExit(await probeCommand(cmd, o)));
  program
    .command('install-service')
    .description('install the systemd unit for this installation (system user, /etc config, minimal capabilities) and start it')
    .option('--user <name>', 'system user the service runs as (created if missing)', SERVICE_NAME)
    .option('--unit-dir <dir>', 'where the unit goes', '/etc/systemd/system')
    .option('--config-dir <dir>', 'where ossec.conf goes (the -c file, or the bundled one, is copied there when absent)', `/etc/${SERVICE_NAME}`)
    .option('--no-start', 'write everything, do not enable or start the service')
    .action((o: { user: string; unitDir: string; configDir: string; start: boolean }, cmd: Command) => setExit(installServiceCommand(cmd, o)));
  program
    .command('check-config')
    .description('validate ossec.conf as Wazuh 4.14.7 does: print its warnings (file, line, option) and the effective configuration as JSON')
    .option('--strict', 'refuse (exit 2) a file Wazuh would only warn about')
    .action((o: { strict?: boolean }, cmd: Command) => setExit(checkConfigCommand(cmd, o)));
  return program;
}

function installServiceCommand(cmd: Command, o: { user: string; unitDir: string; configDir: string; start: boolean }): number {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  const log = createLogger({});
  const sourceConfig = opts.config ?? defaultConfigPath();
  loadAgentConfig(sourceConfig); // a broken file is refused here, with its line, not at the service's start
  installService({ ...o, sourceConfig, home: opts.home, command: [process.execPath, fileURLToPath(import.meta.url)], log });
  return EXIT.ok;
}

function packageVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Maps every failure to one line on stderr and an exit code; no stack traces for known errors. */
export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  try {
    await buildProgram((c) => (code = c)).parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.config;
    const line = (tag: string, msg: string) => process.stderr.write(`wazuh-bpf-agent: ${tag}: ${msg}\n`);
    if (e instanceof ConfigError || e instanceof UnsafePathError || e instanceof ServiceError) {
      line('ERROR', e.message);
      return EXIT.config;
    }
    if (e instanceof NoKeyError || e instanceof EnrollmentError || e instanceof KeysError) {
      line('ERROR', e.message);
      return EXIT.noKey;
    }
    line('CRITICAL', (e as Error).stack ?? String(e));
    return EXIT.failure;
  }
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(new URL(import.meta.url).pathname)) {
  main(process.argv).then((code) => process.exit(code));
}
