// The agent's effective configuration, as read from ossec.conf with Wazuh's defaults applied.
// Field names are camelCase versions of the ossec.conf option names they come from.

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

export interface AgentConfig {
  /** Absolute path of the file read. */
  file: string;
  client: ClientConfig;
  clientBuffer: ClientBufferConfig;
  labels: Label[];
  /** One line per thing ignored or deprecated, worded like Wazuh's warnings. */
  warnings: string[];
}
