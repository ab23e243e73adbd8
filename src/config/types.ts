// The agent's effective configuration, as read from ossec.conf with Wazuh's defaults applied.
// Field names are camelCase versions of the ossec.conf option names they come from.
import type { ConfigWarning } from './errors.js';

export type Protocol = 'tcp' | 'udp';

/** One `<client><server>` block; several of them mean failover in order. */
export interface ServerConfig {
  address: string;
  port: number;
  protocol: Protocol;
  /** Connection attempts to this server before moving on to the next (`max_retries`). */
  maxRetries: number;
  /** Seconds between those attempts (`retry_interval`). */
  retryInterval: number;
}

/** `<client><enrollment>`. */
export interface EnrollmentConfig {
  enabled: boolean;
  /** Omitted: the address of the first `<server>`. */
  managerAddress?: string;
  port: number;
  /** Omitted: the host name. */
  agentName?: string;
  /** Comma-separated group list as written. */
  groups?: string;
  /** `agent_address`: the IP sent in the request. */
  agentAddress?: string;
  authorizationPassPath: string;
  serverCaPath?: string;
  agentCertificatePath?: string;
  agentKeyPath?: string;
  sslCipher: string;
  autoMethod: boolean;
  /** Seconds to wait after a successful enrollment before connecting (`delay_after_enrollment`). */
  delayAfterEnrollment: number;
  useSourceIp: boolean;
}

export interface ClientConfig {
  servers: ServerConfig[];
  enrollment: EnrollmentConfig;
  /** Seconds between keepalives (`notify_time`). */
  notifyTime: number;
  /** Seconds without a manager answer before reconnecting (`time-reconnect`). */
  timeReconnect: number;
  /** Seconds; 0 = never force a reconnection (`force_reconnect_interval`). */
  forceReconnectInterval: number;
  /** Seconds between agent IP refreshes for the keepalive (`ip_update_interval`). */
  ipUpdateInterval: number;
  cryptoMethod: 'aes';
  autoRestart: boolean;
  configProfiles: string[];
  /**
   * Internal option remoted.verify_msg_id: refuse a manager message whose counters are not newer
   * than the last ones accepted from that server (replays). Off in Wazuh's stock
   * internal_options.conf: any counter is accepted, which lets a cluster's nodes, each counting
   * on its own, talk to the same agent.
   */
  verifyManagerCounters: boolean;
}

/** `<client_buffer>`. */
export interface ClientBufferConfig {
  disabled: boolean;
  queueSize: number;
  eventsPerSecond: number;
}

/** One `<labels><label key="..." hidden="...">value</label>`. */
export interface Label {
  key: string;
  value: string;
  hidden: boolean;
}

/**
 * An `<ignore>` or `<nodiff>` entry: a plain path, or (`type="sregex"`) a Wazuh simple regex
 * (OSMatch), kept as written. What "matches" means depends on the list: see pathMatches in
 * syscheck.ts.
 */
export type PathMatcher = { type: 'path'; value: string } | { type: 'sregex'; value: string };

/** The `check_*` attributes of `<directories>`: which file attributes a change is detected on. */
export interface FileChecks {
  md5: boolean;
  sha1: boolean;
  sha256: boolean;
  size: boolean;
  owner: boolean;
  group: boolean;
  perm: boolean;
  mtime: boolean;
  inode: boolean;
}

/** One monitored path from `<syscheck><directories>`. */
export interface DirectoryConfig {
  /** Absolute path without a trailing '/' (except "/"); a glob pattern when `wildcard`. */
  path: string;
  /** The path holds '*', '?' or '[': to be expanded with glob(3), as Wazuh does at each scan. */
  wildcard: boolean;
  /**
   * Of a directory a wildcard expanded to: the pattern's fixed leading directories. Matched
   * components below it may belong to users, so the path is resolved beneath this one (access.ts).
   */
  wildcardBase?: string;
  /** Real-time (inotify) monitoring. Never true together with `whodata`, which prevails. */
  realtime: boolean;
  /** Who-data (eBPF) monitoring. */
  whodata: boolean;
  reportChanges: boolean;
  checks: FileChecks;
  /** Wazuh simple regex (sregex) a file path must match to be monitored (`restrict`). */
  restrict?: string;
  /** `tags` with spaces, '!' and ':' removed, as Wazuh sends it in events (comma-separated). */
  tags?: string;
  /** Subdirectory levels below `path` to descend (0 = its own entries only). */
  recursionLevel: number;
  followSymbolicLink: boolean;
  /** Largest file, in KB, whose changes are reported with a diff (`diff_size_limit`). */
  diffSizeLimitKb: number;
  /** Line of the `<directories>` element the entry comes from. */
  line: number;
}

/** `<syscheck>`: file integrity monitoring (Wazuh 4.14's Linux agent options). */
export interface SyscheckConfig {
  disabled: boolean;
  /** Seconds between scheduled scans. */
  frequency: number;
  /** Time of day of the scheduled scan, "HH:MM" (24 h). */
  scanTime?: string;
  /** Days of the scheduled scan, 0 = Sunday ... 6 = Saturday (as tm_wday), ascending. */
  scanDay?: number[];
  scanOnStart: boolean;
  /** Sorted by path (byte order), as Wazuh keeps them; a path configured again replaces its entry. */
  directories: DirectoryConfig[];
  ignore: PathMatcher[];
  nodiff: PathMatcher[];
  skipNfs: boolean;
  skipDev: boolean;
  skipSys: boolean;
  skipProc: boolean;
  /** Events per second sent to the manager; 0 = unlimited. */
  maxEps: number;
  /** Files read per second during a scan; 0 = unlimited. */
  maxFilesPerSecond: number;
  /** `entries` is 0 (no limit) when `enabled` is false, as in Wazuh. */
  fileLimit: { enabled: boolean; entries: number };
  /** Nice value of the scanner, -20..19. */
  processPriority: number;
  synchronization: {
    enabled: boolean;
    /** Seconds. */
    interval: number;
    /** Seconds; never less than `interval`. */
    maxInterval: number;
    /** Seconds. */
    responseTimeout: number;
    queueSize: number;
    /** Sync messages per second; 0 = unlimited. */
    maxEps: number;
    threadPool: number;
  };
  /** Who-data always uses eBPF in this agent; `queueSize` bounds the queue of eBPF events. */
  whodata: { provider: 'ebpf'; queueSize: number };
  database: 'disk' | 'memory';
  /** Sizes in KB; `diskQuota.limitKb` is raised to `fileSize.limitKb` when smaller (and file_size enabled). */
  diff: {
    diskQuota: { enabled: boolean; limitKb: number };
    fileSize: { enabled: boolean; limitKb: number };
  };
  /**
   * Internal option syscheck.file_max_size, in bytes: files of this size or more are not hashed
   * (they get the empty-input hashes), and a read stops there. 0 hashes nothing (Wazuh's code).
   */
  fileMaxSize: number;
}

export interface AgentConfig {
  /** Absolute path of the file read. */
  file: string;
  client: ClientConfig;
  clientBuffer: ClientBufferConfig;
  labels: Label[];
  syscheck: SyscheckConfig;
  /**
   * What Wazuh warns about (in its words), and this agent's own remarks (INFO), in file order;
   * each already acted upon as Wazuh acts (see errors.ts ConfigWarning).
   */
  warnings: ConfigWarning[];
}
