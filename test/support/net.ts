// Small network helpers for tests: a free TCP port, and HTTP requests that always end (timeout).
import http from 'node:http';
import net from 'node:net';

/** A TCP port that was free a moment ago on 127.0.0.1 (the OS picks it; a race is possible but rare). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** POSTs `body` and reads the whole answer; rejects (fails the test) when no answer came within `timeoutMs`. */
export async function post(url: string, body: Uint8Array<ArrayBuffer> | undefined, headers: Record<string, string>, timeoutMs = 10_000): Promise<HttpAnswer> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, { method: 'POST', headers, body, signal });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text };
  } catch (err) {
    if (signal.aborted) throw new Error(`no answer from ${url} within ${timeoutMs} ms`, { cause: err });
    throw err;
  }
}

/**
 * A request with node:http, for what fetch cannot express: a body sent with chunked transfer
 * encoding (no Content-Length), or a declared Content-Length that the body never reaches.
 */
export function rawPost(
  url: string,
  headers: Record<string, string>,
  chunks: Uint8Array[],
  options: { timeoutMs?: number; endBody?: boolean } = {},
): { answer: Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>; request: http.ClientRequest } {
  const request = http.request(url, { method: 'POST', headers, agent: false });
  const answer = new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      request.destroy(new Error(`no answer from ${url} within ${options.timeoutMs ?? 10_000} ms`));
    }, options.timeoutMs ?? 10_000);
    request.once('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.once('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString('utf8') });
      });
      res.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    request.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  // A server that answers early (e.g. 413) may close the connection while the body is still being
  // written; the answer is what matters, so write errors are left to the 'error' listener above.
  for (const chunk of chunks) request.write(chunk);
  if (options.endBody ?? true) request.end();
  return { answer, request };
}

/** The sum of the samples of `name` whose labels include `labels` in a text exposition (0 when none). */
export function metricValue(exposition: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels);
  let total = 0;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^([^{\s]+)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const present = new Map<string, string>();
    for (const l of (m[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) present.set(l[1], l[2]);
    if (wanted.every(([k, v]) => present.get(k) === v)) total += Number(m[3]);
  }
  return total;
}

/** Rejections counted by /metrics, by reason. */
export async function rejectedByReason(baseUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^k8s_expenses_receiver_requests_rejected_total\{reason="([^"]+)"\} (\S+)$/gm)) out[m[1]] = Number(m[2]);
  return out;
}
