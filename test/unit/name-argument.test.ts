// A bad NAME on the command line: exit 2, said once as what it is (the argument), before anything is read or changed.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMainCaptured } from '../support/run-main.js';

describe('a bad network name as the NAME argument', () => {
  for (const argv of [['up'], ['down'], ['destroy', '--yes'], ['plan', '--destroy'], ['watch']]) {
    it(`${argv[0]}${argv[1] === '--destroy' ? ' --destroy' : ''}: exit 2, the argument named once, nothing written`, async () => {
      const root = mkdtempSync(join(tmpdir(), 'mvl-name-arg-'));
      const args = argv[0] === 'plan' ? ['plan', '--destroy', 'bad name!'] : [argv[0]!, 'bad name!', ...argv.slice(1)];
      try {
        const { code, stdout } = await runMainCaptured([...args, '--json', '--root', root]);
        expect(code).toBe(2);
        const message = (JSON.parse(stdout) as { error: { message: string } }).error.message;
        expect(message).toBe("argument NAME: network name 'bad name!' is not valid: it must start with a letter or digit and contain only letters, digits, _ . and -");
        expect(readdirSync(root)).toEqual([]);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  }
});
