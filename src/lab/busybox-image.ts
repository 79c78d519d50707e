// The lab's container image: a busybox rootfs (busybox-static + applet symlinks) imported with
// `docker import`, since no registry is reachable from the lab.

import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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

/**
 * A tar of a busybox rootfs (/bin/busybox + applet symlinks from `busybox --list-full`, /etc/passwd),
 * built once per process and kept in memory (~2 MB), so no file outlives the process.
 */
export function busyboxRootfsTar(): Promise<Buffer> {
  busyboxTar ??= (async () => {
    const bin = findStaticBusybox();
    const dir = mkdtempSync(join(tmpdir(), 'macvlanctl-busybox-'));
    try {
      const root = join(dir, 'rootfs');
      for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'var']) {
        mkdirSync(join(root, d), { recursive: true });
      }
      copyFileSync(bin, join(root, 'bin/busybox'));
      const { stdout } = await runChecked(bin, ['--list-full']);
      for (const rel of stdout.split('\n').map((l) => l.trim()).filter(Boolean)) {
        if (rel === 'bin/busybox' || rel.includes('..')) continue;
        mkdirSync(dirname(join(root, rel)), { recursive: true });
        try {
          symlinkSync('/bin/busybox', join(root, rel));
        } catch {
          /* duplicate applet name */
        }
      }
      writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
      writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
      const tar = join(dir, 'rootfs.tar');
      await runChecked('tar', ['-C', root, '--numeric-owner', '--owner=0', '--group=0', '-cf', tar, '.']);
      return readFileSync(tar);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
