// One Engine API call over a unix socket (node:http). The lab talks to its own dockerd with this; the
// product's Docker client lives in src/system/docker.

import { request } from 'node:http';

export interface DockerResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** body parsed as JSON when it is JSON, else undefined */
  json: unknown;
}

export function dockerRequest(
  socket: string,
  method: string,
  path: string,
  body?: unknown,
  opts: { timeoutMs?: number; rawBody?: Buffer; contentType?: string } = {},
): Promise<DockerResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    let payload: string | undefined;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    } else if (opts.rawBody) {
      headers['Content-Type'] = opts.contentType ?? 'application/octet-stream';
      headers['Content-Length'] = String(opts.rawBody.length);
    }
    const req = request({ socketPath: socket, method, path, headers, timeout: opts.timeoutMs ?? 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    if (payload !== undefined) req.end(payload);
    else if (opts.rawBody) req.end(opts.rawBody);
    else req.end();
  });
}
