// Framing for exec/attach streams after the opening JSON line: [channel u8][length u32 BE][payload].
import type { Socket } from 'node:net';

export function encodeFrame(channel: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(5);
  head.writeUInt8(channel, 0);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** Calls `onFrame` for every complete frame arriving on `sock`, starting with `initial` bytes. */
export function readFrames(sock: Socket, initial: Buffer, onFrame: (channel: number, payload: Buffer) => void): void {
  let buf = initial;
  const drain = () => {
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) return;
      const channel = buf.readUInt8(0);
      const payload = buf.subarray(5, 5 + len);
      buf = buf.subarray(5 + len);
      onFrame(channel, payload);
    }
  };
  sock.on('data', (d: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    drain();
  });
  drain();
}

/** Splits newline-delimited JSON from a socket; the rest of the buffer after `stop()` is returned. */
export function readLines(sock: Socket, onLine: (line: string, rest: () => Buffer) => boolean | void): void {
  let buf: Buffer = Buffer.alloc(0);
  const onData = (d: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    for (;;) {
      const nl = buf.indexOf(10);
      if (nl < 0) return;
      const line = buf.subarray(0, nl).toString();
      buf = buf.subarray(nl + 1);
      let detached = false;
      const rest = () => {
        detached = true;
        sock.off('data', onData);
        return buf;
      };
      onLine(line, rest);
      if (detached) return;
    }
  };
  sock.on('data', onData);
}
