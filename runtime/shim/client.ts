// The runtime's side of the shim protocol: requests over <bundle>/shim.sock (or a warm shim's pool
// socket), exit subscriptions, and exec/attach streams.
import { connect, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import { encodeFrame, readFrames, readLines } from './frames';
import { Channel, type ShimResponse, type ShimState } from './spec';

/** A shim answered with an error; `code` is the shim's (StartError, ContainerNotRunning, ...). */
export class ShimRequestError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'ShimRequestError';
  }
}

export class ShimUnavailableError extends Error {
  readonly code = 'ShimUnavailable';
}

function dial(path: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new ShimUnavailableError(`shim at ${path} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      resolve(sock);
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(new ShimUnavailableError(`cannot reach shim at ${path}: ${err.message}`));
    });
  });
}

export class ShimClient extends EventEmitter {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private closed = false;

  private constructor(private readonly sock: Socket) {
    super();
    readLines(sock, (line) => {
      const msg = JSON.parse(line) as ShimResponse;
      if (msg.event) {
        this.emit(msg.event, msg.state);
        return;
      }
      const p = msg.id !== undefined ? this.pending.get(msg.id) : undefined;
      if (!p) return;
      this.pending.delete(msg.id!);
      if (this.unrefed && this.pending.size === 0) this.sock.unref();
      if (msg.error) p.reject(new ShimRequestError(msg.error.code, msg.error.message));
      else p.resolve(msg.result);
    });
    const fail = () => {
      this.closed = true;
      for (const p of this.pending.values()) p.reject(new ShimUnavailableError('shim connection closed'));
      this.pending.clear();
      this.emit('close');
    };
    sock.on('close', fail);
    sock.on('error', () => sock.destroy());
  }

  static async connect(path: string, timeoutMs = 2000): Promise<ShimClient> {
    return new ShimClient(await dial(path, timeoutMs));
  }

  request<T>(method: string, params?: unknown): Promise<T> {
    if (this.closed) return Promise.reject(new ShimUnavailableError('shim connection closed'));
    const id = this.nextId++;
    // an answer we wait for keeps the process alive even when the connection is unref'd
    if (this.unrefed) this.sock.ref();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.sock.write(JSON.stringify({ id, method, params }) + '\n');
    });
  }

  /** Subscribes to the "exit" event; resolves with the current state. */
  subscribe(): Promise<ShimState> {
    return this.request<ShimState>('subscribe');
  }

  close(): void {
    this.closed = true;
    this.sock.destroy();
  }

  /** Lets the process exit while this connection is open and no request is in flight. */
  unref(): void {
    this.unrefed = true;
    if (this.pending.size === 0) this.sock.unref();
  }
  private unrefed = false;
}

/** An exec or attach session: output as events, stdin and resize as methods, exit as a promise. */
export class ShimStream extends EventEmitter {
  readonly exit: Promise<number | null>;
  private resolveExit!: (code: number | null) => void;
  private rejectExit!: (err: Error) => void;

  constructor(private readonly sock: Socket) {
    super();
    this.exit = new Promise((resolve, reject) => {
      this.resolveExit = resolve;
      this.rejectExit = reject;
    });
    this.exit.catch(() => undefined);
    let done = false;
    readFrames(sock, Buffer.alloc(0), (ch, payload) => {
      if (ch === Channel.stdout) this.emit('stdout', payload);
      else if (ch === Channel.stderr) this.emit('stderr', payload);
      else if (ch === Channel.exit) {
        done = true;
        this.resolveExit(JSON.parse(payload.toString()).exitCode);
      } else if (ch === Channel.error) {
        done = true;
        const e = JSON.parse(payload.toString());
        this.rejectExit(new ShimRequestError(e.code, e.message));
      }
    });
    sock.on('close', () => {
      if (!done) this.rejectExit(new ShimUnavailableError('stream closed before the process exited'));
    });
    sock.on('error', () => sock.destroy());
  }

  static async open(path: string, method: 'exec' | 'attach', params: unknown): Promise<ShimStream> {
    const sock = await dial(path, 2000);
    const s = new ShimStream(sock);
    sock.write(JSON.stringify({ id: 1, method, params }) + '\n');
    return s;
  }

  write(data: Buffer | string): void {
    this.sock.write(encodeFrame(Channel.stdin, data));
  }

  closeStdin(): void {
    this.sock.write(encodeFrame(Channel.closeStdin, ''));
  }

  resize(rows: number, cols: number): void {
    this.sock.write(encodeFrame(Channel.resize, JSON.stringify({ rows, cols })));
  }

  close(): void {
    this.sock.destroy();
  }
}
