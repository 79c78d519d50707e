/** readConfigFile's error mapping for failures a root-run test cannot provoke for real. */
import { describe, expect, it, vi } from 'vitest';

vi.mock('node:fs/promises', () => ({
  // readConfigFile opens the file (src/system/read-regular-file.ts): fail the open.
  open: vi.fn(async (path: string) => {
    const code = path.includes('locked') ? 'EACCES' : path.includes('odd') ? 'EIO' : 'ENOTDIR';
    throw Object.assign(new Error(`${code}: simulated, open '${path}'`), { code });
  }),
}));

const { readConfigFile } = await import('../../src/config/load-file.js');

describe('readConfigFile (mocked file system)', () => {
  it('maps EACCES to a clear CONFIG_INVALID error', async () => {
    await expect(readConfigFile('/etc/locked.yaml')).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'cannot read /etc/locked.yaml: permission denied; make the file readable for this user or run as a user who can read it',
      details: { file: '/etc/locked.yaml', errno: 'EACCES' },
    });
  });

  it('maps ENOTDIR and keeps the reason of other failures', async () => {
    await expect(readConfigFile('/etc/hosts/x.yaml')).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/a part of the path is not a directory/),
    });
    await expect(readConfigFile('/odd.yaml')).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: "cannot read /odd.yaml: EIO: simulated, open '/odd.yaml'",
    });
  });
});
