// The agent's end of the 4.x secure channel: its key, its sending counters and the last
// counters accepted from the manager. No sockets: transports call seal()/open().
import crypto from 'node:crypto';
import { checkCounters, Counters, deriveKey, encodeAgentPayload, open, parseManagerPayload } from './codec.js';
import type { SenderCounter } from './counters.js';
import type { AgentKey } from './keys.js';

export class SecureChannel {
  private readonly aesKey: Buffer;
  /** Manager counters are checked for the life of the process, across reconnections. */
  private lastReceived: Counters | undefined;

  constructor(private readonly agent: AgentKey, private readonly sender: SenderCounter) {
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

  /** Decrypts and verifies one manager payload; throws CodecError with the reason. */
  open(payload: Buffer): Buffer {
    const opened = open(parseManagerPayload(payload), this.aesKey);
    checkCounters(opened, this.lastReceived);
    this.lastReceived = { global: opened.global, local: opened.local };
    return opened.message;
  }
}
