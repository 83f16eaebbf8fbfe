// readBody over a real HTTP server on 127.0.0.1: whole bodies in chunks, the size limit (declared
// and streamed), a second read, and a body cut off by the client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from '../../server/apiserver/body';

let server: Server;
let port = 0;
let onRequest: (req: IncomingMessage) => Promise<unknown>;
const results: unknown[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    onRequest(req).then((v) => { results.push(v); res.end('ok'); }, (err: Error & { httpStatus?: number }) => { results.push(err); res.statusCode = err.httpStatus ?? 500; res.end(); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => { server.closeAllConnections(); await new Promise<void>((r) => server.close(() => r())); });

function post(chunks: string[], headers: Record<string, string> = {}, cut = false): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    req.on('error', () => resolve(-1));
    let i = 0;
    const next = (): void => {
      if (i < chunks.length) { req.write(chunks[i++]); setImmediate(next); return; }
      if (cut) { setTimeout(() => { req.destroy(); resolve(-1); }, 50); return; }
      req.end();
    };
    next();
  });
}

async function lastResult(n: number): Promise<unknown> {
  const deadline = Date.now() + 5000;
  while (results.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return results[n - 1];
}

describe('readBody', () => {
  it('joins a chunked body and reads nothing more the second time', async () => {
    onRequest = async (req) => { const a = await readBody(req); const b = await readBody(req); return [a.toString(), b.length]; };
    expect(await post(['{"a":', '"b', '"}'])).toBe(200);
    expect(await lastResult(1)).toEqual(['{"a":"b"}', 0]);
  }, 10_000);

  it('refuses a declared or streamed body over the limit with 413', async () => {
    onRequest = (req) => readBody(req, 8);
    expect(await post(['0123456789'], { 'content-length': '10' })).toBe(413);
    expect(await post(['0123', '4567', '89'])).toBe(413);
    expect((await lastResult(3) as { httpStatus: number }).httpStatus).toBe(413);
  }, 10_000);

  it('rejects a body the client cut off', async () => {
    onRequest = (req) => readBody(req);
    await post(['{"partial":'], { 'content-length': '100' }, true);
    const r = await lastResult(4) as { httpStatus?: number; message: string };
    expect(r).toBeInstanceOf(Error);
    expect(r.message).toMatch(/cut off|aborted/);
  }, 10_000);
});
