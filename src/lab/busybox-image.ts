// The lab's container image: a busybox rootfs (busybox-static + applet symlinks) imported with
// `docker import`, since no registry is reachable from the lab.

import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { dockerRequest } from './docker-api.js';
import { runChecked } from './process.js';

export const LAB_IMAGE = 'macvlanctl-busybox:latest';

let busyboxTar: Promise<Buffer> | undefined;

function findStaticBusybox(): string {
  for (const p of ['/bin/busybox', '/usr/bin/busybox', '/usr/local/bin/busybox']) {
    if (!existsSync(p)) continue;
    const head = readFileSync(p).subarray(0, 8192).toString('latin1');
    if (head.includes('/ld-linux') || head.includes('/ld-musl')) {
      throw new Error(`${p} is dynamically linked; install busybox-static`);
    }
    return p;
  }
  throw new Error('busybox not found; install busybox-static');
}

interface TarEntry {
  path: string;
  type: 'dir' | 'file' | 'symlink';
  mode: number;
  data?: Buffer;
  target?: string;
}

/** One USTAR header block (names here are short: no prefix field or long-name extensions needed). */
function tarHeader(e: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (text: string, offset: number, length: number) => {
    if (Buffer.byteLength(text) > length) throw new Error(`tar: ${JSON.stringify(text)} is too long`);
    h.write(text, offset, length, 'utf8');
  };
  const octal = (n: number, offset: number, length: number) => put(n.toString(8).padStart(length - 1, '0'), offset, length - 1);
  put(e.type === 'dir' ? `${e.path}/` : e.path, 0, 100);
  octal(e.mode, 100, 8);
  octal(0, 108, 8); // uid
  octal(0, 116, 8); // gid
  octal(size, 124, 12);
  octal(0, 136, 12); // mtime: reproducible image
  h.fill(0x20, 148, 156); // checksum field counts as spaces
  put(e.type === 'dir' ? '5' : e.type === 'symlink' ? '2' : '0', 156, 1);
  if (e.target) put(e.target, 157, 100);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  put('root', 265, 32);
  put('root', 297, 32);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return h;
}

/** A tar archive of `entries`, in memory. */
export function tarArchive(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.type === 'file' ? (e.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    parts.push(tarHeader(e, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024)); // two zero blocks end the archive
  return Buffer.concat(parts);
}

/**
 * A tar of a busybox rootfs (/bin/busybox + applet symlinks from `busybox --list-full`, /etc/passwd),
 * built in memory once per process (~2 MB): no temporary file, so nothing is left behind even when
 * the process is killed half-way.
 */
export function busyboxRootfsTar(): Promise<Buffer> {
  busyboxTar ??= (async () => {
    const bin = findStaticBusybox();
    const { stdout } = await runChecked(bin, ['--list-full']);
    const dirs = new Set(['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'var']);
    const applets = stdout
      .split('\n')
      .map((l) => l.trim().replace(/^\/+/, ''))
      .filter((rel) => rel && rel !== 'bin/busybox' && !rel.split('/').includes('..'));
    for (const rel of applets) for (let d = dirname(rel); d !== '.'; d = dirname(d)) dirs.add(d);
    const text = (path: string, body: string): TarEntry => ({ path, type: 'file', mode: 0o644, data: Buffer.from(body) });
    return tarArchive([
      ...[...dirs].sort().map((path): TarEntry => ({ path, type: 'dir', mode: path === 'tmp' ? 0o1777 : 0o755 })),
      { path: 'bin/busybox', type: 'file', mode: 0o755, data: readFileSync(bin) },
      ...[...new Set(applets)].map((path): TarEntry => ({ path, type: 'symlink', mode: 0o777, target: '/bin/busybox' })),
      text('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n'),
      text('etc/group', 'root:x:0:\nnogroup:x:65534:\n'),
    ]);
  })();
  busyboxTar.catch(() => {
    busyboxTar = undefined;
  });
  return busyboxTar;
}

/** `docker import` of a rootfs tar through the Engine API */
export async function importImage(socket: string, tar: Buffer, image: string): Promise<void> {
  const [repo, tag = 'latest'] = image.split(':');
  const q = new URLSearchParams({ fromSrc: '-', repo: repo ?? image, tag, changes: 'CMD ["/bin/sh"]' });
  const res = await dockerRequest(socket, 'POST', `/images/create?${q.toString()}`, undefined, {
    rawBody: tar,
    contentType: 'application/x-tar',
    timeoutMs: 120_000,
  });
  // the answer is a stream of JSON progress lines; failures show up as {"errorDetail":…} in a 200
  if (res.status !== 200 || res.body.includes('"errorDetail"')) {
    throw new Error(`docker import ${image}: HTTP ${res.status} ${res.body.trim()}`);
  }
}
