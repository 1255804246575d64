/**
 * A minimal keep-alive HTTP/1.1 client over one TCP connection, for load generators: GET requests,
 * responses with a Content-Length (what the server sends for JSON). node:http's client (agent,
 * ClientRequest, IncomingMessage, a URL per request) cost a long-polling load generator more CPU
 * per response than the server spent making it; on a shared 2-core machine that time came out of
 * the server's core or, pinned apart, queued deliveries in the client and counted as latency.
 */
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  body: string;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;

export class RawHttpConnection {
  private socket: Socket | undefined;
  private buffered: Buffer = Buffer.alloc(0);
  /** Header length and body length of the response being read, once its headers are in. */
  private head: { length: number; status: number; bodyLength: number } | undefined;
  private waiting: { resolve: (r: RawResponse) => void; reject: (err: Error) => void } | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly localAddress: string | undefined,
  ) {}

  /** One request at a time; opens (or reopens) the connection as needed. */
  get(path: string, headers: string): Promise<RawResponse> {
    if (this.waiting) return Promise.reject(new Error('request already in flight'));
    const socket = this.socket ?? this.open();
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\n${headers}\r\n`);
    });
  }

  close(): void {
    this.socket?.destroy();
  }

  private open(): Socket {
    const socket = connect({ host: this.host, port: this.port, localAddress: this.localAddress, noDelay: true });
    this.socket = socket;
    this.buffered = Buffer.alloc(0);
    this.head = undefined;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const fail = (err: Error) => {
      if (this.socket === socket) this.socket = undefined;
      const w = this.waiting;
      this.waiting = undefined;
      w?.reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
    return socket;
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    if (!this.head) {
      const end = this.buffered.indexOf(HEADER_END);
      if (end === -1) return;
      const text = this.buffered.toString('latin1', 0, end);
      const status = Number(text.slice(9, 12));
      const length = CONTENT_LENGTH.exec(text);
      if (!length) {
        this.socket?.destroy(new Error('response without Content-Length'));
        return;
      }
      this.head = { length: end + HEADER_END.length, status, bodyLength: Number(length[1]) };
    }
    const { length, status, bodyLength } = this.head;
    if (this.buffered.length < length + bodyLength) return;
    const body = this.buffered.toString('utf8', length, length + bodyLength);
    this.buffered = this.buffered.subarray(length + bodyLength);
    this.head = undefined;
    const w = this.waiting;
    this.waiting = undefined;
    w?.resolve({ status, body });
  }
}
