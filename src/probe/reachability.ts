/**
 * Does the host reach an address? One ICMP echo through the kernel's own
 * routing (so through the shim for container addresses), with `ping` from
 * iputils. If ping is missing, a UDP datagram makes the kernel resolve the
 * neighbour, and the neighbour table says whether it answered ARP.
 */
import { createSocket } from 'node:dgram';
import { neighbourAnswered } from '../model/neighbour-states.js';
import { run } from '../system/exec.js';

async function viaPing(address: string, timeoutS: number): Promise<boolean> {
  const args = [address.includes(':') ? '-6' : '-4', '-n', '-q', '-c', '1', '-W', String(timeoutS), address];
  try {
    await run('ping', args, { timeoutMs: (timeoutS + 2) * 1000 });
    return true;
  } catch (e) {
    if (/was not found/.test((e as Error).message)) throw e;
    return false;
  }
}

async function sendDatagram(address: string): Promise<void> {
  await new Promise<void>((resolve) => {
    const s = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    s.on('error', () => {
      s.close();
      resolve();
    });
    s.send(Buffer.alloc(0), 9, address, () => {
      s.close();
      resolve();
    });
  });
}

async function viaNeighbour(address: string, timeoutS: number): Promise<boolean> {
  const deadline = Date.now() + timeoutS * 1000;
  // A FAILED entry left by an earlier attempt is not an answer: keep asking
  // (each datagram makes the kernel resolve again) until the deadline.
  while (Date.now() < deadline) {
    await sendDatagram(address);
    const { stdout } = await run('ip', ['-json', 'neigh', 'show', 'to', address]);
    const entries = JSON.parse(stdout || '[]') as { state?: string[] }[];
    if (neighbourAnswered(entries[0]?.state)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/**
 * Does a ping from one of the host's own addresses (`ping -I`) come back? The
 * echo leaves through the kernel's route (the shim, for a container), and the
 * answer must come back to `source`: the way a container reaches the host at
 * that address. Undefined when there is no ping to try it with.
 */
export async function reachableFrom(source: string, address: string, timeoutS = 1): Promise<boolean | undefined> {
  try {
    await run('ping', [address.includes(':') ? '-6' : '-4', '-n', '-q', '-c', '1', '-W', String(timeoutS), '-I', source, address], { timeoutMs: (timeoutS + 2) * 1000 });
    return true;
  } catch (e) {
    if (/was not found/.test((e as Error).message)) return undefined;
    return false;
  }
}

export async function reachable(address: string, timeoutS = 1): Promise<boolean> {
  try {
    return await viaPing(address, timeoutS);
  } catch {
    return viaNeighbour(address, timeoutS);
  }
}
