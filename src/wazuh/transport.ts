// The boundary between the agent session and the wire. The session speaks in messages; a
// transport carries them. Wazuh 4.x: AES messages over TCP frames or UDP datagrams (this file).
// Wazuh 5.0's HTTPS agent transport would be another implementation of `Transport`.
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { CodecError, FrameLengthError, MAX_MESSAGE, TcpDeframer, frameTcp } from './codec.js';
import type { SecureChannel } from './channel.js';
import type { ServerConfig } from '../config/types.js';

export interface TransportEvents {
  /** A verified, decrypted message from the manager. */
  message: [Buffer];
  /** A manager message that failed verification; the connection stays up (Wazuh logs and goes on). */
  rejected: [CodecError];
  /** The connection is gone; the session decides what next. */
  close: [string];
}

export interface Transport extends EventEmitter<TransportEvents> {
  /** "[address]:port/protocol", as Wazuh names a server in its logs. */
  readonly description: string;
  connect(timeoutMs: number): Promise<void>;
  /** Queues one message; false when the socket buffer is full (wait for `drained()`). */
  send(message: string | Buffer): boolean;
  drained(): Promise<void>;
  /** The agent's own address on this connection (the keepalive reports it). */
  localAddress(): string | undefined;
  close(): void;
}

export type TransportFactory = (server: ServerConfig) => Transport;

export function describeServer(s: ServerConfig): string {
  return `[${s.address}]:${s.port}/${s.protocol}`;
}

/** Wazuh 4.x remoted transport over TCP or UDP. */
export function secureTransportFactory(channel: SecureChannel): TransportFactory {
  return (server) => (server.protocol === 'udp' ? new UdpSecureTransport(server, channel) : new TcpSecureTransport(server, channel));
}

abstract class SecureTransportBase extends EventEmitter<TransportEvents> implements Transport {
  readonly description: string;
  protected closed = false;

  constructor(protected readonly server: ServerConfig, protected readonly channel: SecureChannel) {
    super();
    this.description = describeServer(server);
  }

  abstract connect(timeoutMs: number): Promise<void>;
  abstract send(message: string | Buffer): boolean;
  abstract drained(): Promise<void>;
  abstract localAddress(): string | undefined;
  protected abstract destroy(): void;

  close(): void {
    this.finish('closed by the agent');
  }

  protected receive(payload: Buffer): void {
    if (this.closed) return; // late bytes of a connection the session already left
    let message: Buffer;
    try {
      message = this.channel.open(payload, this.description);
    } catch (e) {
      if (e instanceof CodecError) {
        this.emit('rejected', e);
        return;
      }
      throw e;
    }
    this.emit('message', message);
  }

  protected finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.destroy();
    this.emit('close', reason);
  }

  protected checkSize(message: string | Buffer): Buffer {
    const bytes = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
    if (bytes.length < 1 || bytes.length > MAX_MESSAGE - 128) {
      // Wazuh's CreateSecMSG refuses the same sizes (OS_MAXSTR - OS_HEADER_SIZE).
      throw new RangeError(`message of ${bytes.length} bytes cannot be sent (1..${MAX_MESSAGE - 128})`);
    }
    return bytes;
  }
}

class TcpSecureTransport extends SecureTransportBase {
  private socket: net.Socket | undefined;
  private corked = false;
  private readonly deframer = new TcpDeframer();

  connect(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.server.address, port: this.server.port });
      this.socket = socket;
      socket.setNoDelay(true);
      let connected = false;
      const timer = setTimeout(() => socket.destroy(new Error(`connection timed out after ${timeoutMs} ms`)), timeoutMs);
      socket.once('connect', () => {
        connected = true;
        clearTimeout(timer);
        socket.setKeepAlive(true, 30_000);
        resolve();
      });
      socket.on('error', (err) => {
        clearTimeout(timer);
        if (!connected) {
          this.closed = true;
          reject(err);
          return;
        }
        this.finish(err.message);
      });
      socket.once('close', () => {
        if (connected) this.finish('connection closed by the manager');
      });
      socket.on('data', (chunk) => {
        let frames: Buffer[];
        try {
          frames = this.deframer.push(chunk);
        } catch (e) {
          // A length prefix out of bounds cannot be resynchronised: handle the frames before it,
          // then drop the connection.
          if (e instanceof FrameLengthError) for (const f of e.frames) this.receive(f);
          this.finish(`corrupt payload from the manager: ${(e as Error).message}`);
          return;
        }
        for (const f of frames) this.receive(f);
      });
    });
  }

  send(message: string | Buffer): boolean {
    const s = this.socket;
    if (!s || this.closed) return false;
    // Frames written in the same tick leave in one writev(2), not one system call each.
    if (!this.corked) {
      this.corked = true;
      s.cork();
      process.nextTick(() => {
        this.corked = false;
        s.uncork();
      });
    }
    return s.write(frameTcp(this.channel.seal(this.checkSize(message))));
  }

  drained(): Promise<void> {
    const s = this.socket;
    if (!s || this.closed || !s.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        s.off('drain', done);
        this.off('close', done);
        resolve();
      };
      s.on('drain', done);
      this.on('close', done);
    });
  }

  localAddress(): string | undefined {
    return this.socket?.localAddress;
  }

  protected destroy(): void {
    const s = this.socket;
    if (!s) return;
    // What was written (the goodbye, the last events) still goes out, before the FIN; a peer
    // that does not take it within a second gets the socket destroyed under it.
    if (this.corked) {
      this.corked = false;
      s.uncork();
    }
    s.end();
    setTimeout(() => s.destroy(), 1000).unref();
  }
}

class UdpSecureTransport extends SecureTransportBase {
  private socket: dgram.Socket | undefined;

  connect(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const family = net.isIPv6(this.server.address) ? 'udp6' : 'udp4';
      const socket = dgram.createSocket(family);
      this.socket = socket;
      let connected = false;
      const fail = (err: Error) => {
        clearTimeout(timer);
        this.closed = true;
        this.destroy();
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error(`could not set up the UDP socket within ${timeoutMs} ms`)), timeoutMs);
      socket.on('error', (err) => (connected ? this.finish(err.message) : fail(err)));
      socket.on('message', (payload) => this.receive(payload));
      socket.connect(this.server.port, this.server.address, () => {
        connected = true;
        clearTimeout(timer);
        resolve();
      });
    });
  }

  send(message: string | Buffer): boolean {
    if (!this.socket || this.closed) return false;
    this.socket.send(this.channel.seal(this.checkSize(message)));
    return true;
  }

  drained(): Promise<void> {
    return Promise.resolve();
  }

  localAddress(): string | undefined {
    try {
      return this.socket?.address().address;
    } catch {
      return undefined;
    }
  }

  protected destroy(): void {
    try {
      this.socket?.close();
    } catch {
      // already closed
    }
  }
}
