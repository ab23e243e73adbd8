// The agent's end of the 4.x secure channel: its key, its sending counters and the last
// counters accepted from each manager. No sockets: transports call seal()/open().
//
// Manager counters follow os_crypto/shared/msgs.c ReadSecMSG with remoted.verify_msg_id: off
// (Wazuh's stock internal_options.conf), any counter is accepted and remembered; on, a message
// must be newer than the last one accepted. Wazuh keeps one entry for "the manager", so with
// verification on its agent refuses a cluster's second node, whose counters start low; here the
// last counters are kept per server, and failover works either way.
import crypto from 'node:crypto';
import { checkCounters, Counters, deriveKey, encodeAgentPayload, open, parseManagerPayload } from './codec.js';
import type { SenderCounter } from './counters.js';
import type { AgentKey } from './keys.js';

export interface SecureChannelOptions {
  /** remoted.verify_msg_id: refuse manager counters not newer than the server's last accepted. */
  verifyManagerCounters: boolean;
}

export class SecureChannel {
  private readonly aesKey: Buffer;
  /** Server description → its last counters, for the life of the process, across reconnections. */
  private readonly lastReceived = new Map<string, Counters>();

  constructor(private readonly agent: AgentKey, private readonly sender: SenderCounter, private readonly opts: SecureChannelOptions) {
    this.aesKey = deriveKey(agent.key);
  }

  get agentId(): string {
    return this.agent.id;
  }

  /** One agent message, encrypted, with its header; ready for a datagram or a TCP frame. */
  seal(message: string | Buffer): Buffer {
    const c = this.sender.next();
    const body = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
    return encodeAgentPayload({ ...c, random: crypto.randomInt(0, 65536), message: body }, this.aesKey, this.agent.id, this.agent.ip);
  }

  /**
   * Decrypts and verifies one payload from `server` (a transport's description); throws
   * CodecError with the reason.
   */
  open(payload: Buffer, server: string): Buffer {
    const opened = open(parseManagerPayload(payload), this.aesKey);
    if (this.opts.verifyManagerCounters) checkCounters(opened, this.lastReceived.get(server));
    this.lastReceived.set(server, { global: opened.global, local: opened.local });
    return opened.message;
  }
}
