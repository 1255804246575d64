/**
 * Streaming media upload/download over plain HTTP for the media benches: bodies are generated and
 * discarded as they flow, so the bench process never holds a large file and its own memory stays out
 * of the figures.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import type { TestUser } from '../../spec-tests/harness/client.js';
import type { TestServer } from '../../spec-tests/harness/server.js';

export const MB = 1024 * 1024;

export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** Uploads `total` bytes made of repeated `chunk`, honouring back-pressure. Resolves with the mxc URI. */
export function uploadStream(s: TestServer, user: TestUser, chunk: Buffer, total: number, type = 'application/octet-stream'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${s.baseUrl}/_matrix/media/v3/upload`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': type, 'content-length': total },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body).content_uri) : reject(new Error(body))));
      },
    );
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        const n = Math.min(chunk.length, total - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/** Downloads and discards the body (authenticated v1 endpoint); calls `onChunk` as data arrives. Resolves with the byte count. */
export function download(s: TestServer, user: TestUser, mxc: string, onChunk: () => void = () => undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${s.baseUrl}/_matrix/client/v1/media/download/${mxc.slice(6)}`,
      { headers: { authorization: `Bearer ${user.accessToken}` } },
      (res) => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
        let n = 0;
        res.on('data', (d: Buffer) => {
          n += d.length;
          onChunk();
        });
        res.on('end', () => resolve(n));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
