// Container logs in the CRI format the kubelet reads:
//   <RFC3339Nano timestamp> <stdout|stderr> <P|F> <content>
// F marks a full line, P a partial one (a chunk longer than maxLine, or the last bytes before EOF
// that ended without a newline are written as F, as containerd does). Rotation by size: the
// current file becomes <path>.1, older ones shift up, at most maxFiles files in all.
import { closeSync, existsSync, fstatSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';

const MAX_LINE = 16 * 1024;
const epochNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Now as RFC3339 with nanoseconds in UTC (2024-01-01T00:00:00.123456789Z). */
export function rfc3339Nano(): string {
  const ns = epochNs + process.hrtime.bigint();
  const ms = Number(ns / 1_000_000n);
  const iso = new Date(ms).toISOString(); // ...SS.mmmZ
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}

export class CriLogWriter {
  private fd: number;
  private size: number;
  private pending: Record<'stdout' | 'stderr', Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };

  constructor(private readonly path: string, private readonly maxBytes: number, private readonly maxFiles: number) {
    this.fd = openSync(path, 'a', 0o640);
    this.size = fstatSync(this.fd).size;
  }

  /** Appends a chunk of a stream; complete lines are written at once, the rest waits for more. */
  write(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    let buf = this.pending[stream].length ? Buffer.concat([this.pending[stream], chunk]) : chunk;
    for (;;) {
      const nl = buf.indexOf(10);
      if (nl < 0) break;
      let content = buf.subarray(0, nl);
      // a line longer than the kubelet's buffer is cut into partial lines, the last one full
      while (content.length > MAX_LINE) {
        this.line(stream, 'P', content.subarray(0, MAX_LINE));
        content = content.subarray(MAX_LINE);
      }
      this.line(stream, 'F', content);
      buf = buf.subarray(nl + 1);
    }
    while (buf.length > MAX_LINE) {
      this.line(stream, 'P', buf.subarray(0, MAX_LINE));
      buf = buf.subarray(MAX_LINE);
    }
    this.pending[stream] = Buffer.from(buf);
  }

  /** The stream ended: what is left (no trailing newline) is a full line. */
  end(stream: 'stdout' | 'stderr'): void {
    if (this.pending[stream].length) this.line(stream, 'F', this.pending[stream]);
    this.pending[stream] = Buffer.alloc(0);
  }

  private line(stream: string, tag: 'P' | 'F', content: Buffer): void {
    const out = Buffer.concat([Buffer.from(`${rfc3339Nano()} ${stream} ${tag} `), content, Buffer.from('\n')]);
    writeSync(this.fd, out);
    this.size += out.length;
    if (this.maxBytes > 0 && this.size >= this.maxBytes) this.rotate();
  }

  /** Current file -> .1 -> .2 ...; keeps maxFiles files including the new current one. */
  rotate(): void {
    closeSync(this.fd);
    const keep = Math.max(1, this.maxFiles);
    if (keep === 1) unlinkSync(this.path);
    else {
      if (existsSync(`${this.path}.${keep - 1}`)) unlinkSync(`${this.path}.${keep - 1}`);
      for (let i = keep - 2; i >= 1; i--) if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      renameSync(this.path, `${this.path}.1`);
    }
    this.fd = openSync(this.path, 'a', 0o640);
    this.size = 0;
  }

  close(): void {
    this.end('stdout');
    this.end('stderr');
    closeSync(this.fd);
  }
}
