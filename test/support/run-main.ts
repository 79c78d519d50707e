/**
 * Runs the CLI's main() in-process with stdout captured, for tests of how a
 * command refuses bad input (exit code and the --json error document).
 */
import { vi } from 'vitest';
import { main } from '../../src/cli/main.js';

export async function runMainCaptured(argv: string[]): Promise<{ code: number; stdout: string }> {
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  try {
    const code = await main(argv);
    return { code, stdout: out.join('') };
  } finally {
    spy.mockRestore();
  }
}
