/**
 * apply and destroy never lie about the host (issue #14 items 4, 6, 7, 8), in
 * a lab namespace with a real dockerd:
 * - a stalled engine (a unix-socket proxy that holds POST /networks/create
 *   past the client's timeout, then forwards it) leaves no network behind;
 * - --replace to a new range moves the shim's address and route with it;
 * - an interface that merely carries our alias survives destroy;
 * - SIGINT at several moments of an apply leaves the host either as before
 *   or fully applied, never half; a killed writer's .tmp does not survive.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, type LabHost, createLab, hostFingerprint } from './lab.js';
import { BIN, macvlanctl } from './support/cli.js';

const root = process.getuid?.() === 0;
if (!root) console.warn('robust e2e: SKIPPED — needs root to build network namespaces and run dockerd');

const RECIPE = ['mynet', '--parent', 'eno1', '--ip-range', '198.51.100.192/27', '--aux-address', 'host=198.51.100.223'];
const MOVED = ['mynet', '--parent', 'eno1', '--ip-range', '198.51.100.160/27', '--aux-address', 'host=198.51.100.191'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function dockerNetworks(h: LabHost): Promise<string> {
  return (await h.dockerCli(['network', 'ls', '--format', '{{.Name}} {{.Driver}}'])).stdout;
}

async function shimAddrs(h: LabHost): Promise<string[]> {
  const r = await h.exec(['ip', '-json', 'addr', 'show', 'dev', 'mynet-shim']);
  return JSON.parse(r.stdout)[0].addr_info.map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`);
}

async function shimRoutes(h: LabHost): Promise<string[]> {
  const r = await h.exec(['ip', '-json', 'route', 'show', 'dev', 'mynet-shim']);
  return JSON.parse(r.stdout).map((x: { dst: string }) => x.dst);
}

/**
 * A unix-socket proxy in front of dockerd: everything passes at once, except
 * that a request starting `POST /v…/networks/create` (and what follows it on
 * that connection) is held `delayMs`, then forwarded even when the client has
 * given up meanwhile — an engine that got the request but answers late.
 */
function stallingProxy(socketPath: string, target: string, delayMs: number): { server: Server; close: () => Promise<void> } {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target);
    sockets.add(client).add(upstream);
    let queue = Promise.resolve();
    client.on('data', (chunk: Buffer) => {
      const hold = /^POST \/v[0-9.]+\/networks\/create /m.test(chunk.toString('latin1'));
      queue = queue.then(async () => {
        if (hold) await sleep(delayMs);
        upstream.write(chunk);
      });
    });
    // the engine answers whoever still listens; a client that left does not cancel the request
    upstream.on('data', (d: Buffer) => void (client.destroyed ? undefined : client.write(d)));
    client.on('close', () => void queue.then(() => setTimeout(() => upstream.end(), 3000)));
    upstream.on('close', () => client.destroy());
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  server.listen(socketPath);
  return {
    server,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** The CLI in the host's namespace as a child we can signal (nsenter execs: the pid is node's). */
function spawnCli(h: LabHost, args: string[], dir: string): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const child = spawn('nsenter', [`--net=/run/netns/${h.netns}`, '--', process.execPath, BIN, ...args, '--docker-host', h.docker!.dockerHost, '--root', dir], {
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.resume();
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((r) => child.on('close', (code, signal) => r({ code, signal, stderr })));
  return { child, done };
}

describe.skipIf(!root)('apply and destroy never lie about the host', () => {
  let lab: Lab;
  let dir: string;
  beforeAll(async () => {
    lab = await createLab({ docker: true, hosts: [{ name: 'h1', address: '198.51.100.24' }] });
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-robust-'));
  }, 120_000);
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('destroy leaves an interface that merely carries our alias, and says why', async () => {
    const h = lab.host('h1');
    await h.exec(['ip', 'link', 'add', 'evil0', 'link', 'eno1', 'type', 'macvlan', 'mode', 'bridge'], { check: true });
    await h.exec(['ip', 'link', 'set', 'dev', 'evil0', 'alias', 'macvlanctl:evil'], { check: true });
    try {
      const before = await hostFingerprint(h);
      const r = await macvlanctl(h, ['destroy', 'evil', '--yes', '--json'], { root: dir });
      expect(r.code).toBe(1);
      expect(r.json!.error!.code).toBe('NOT_FOUND');
      expect(r.json!.error!.message).toMatch(/interface evil0 carries the alias macvlanctl:evil, but nothing proves it is macvlanctl's \(there is no record of evil/);
      // plan --destroy says the same, as destroy does
      const p = await macvlanctl(h, ['plan', '--destroy', 'evil', '--json'], { root: dir });
      expect(p.code).toBe(1);
      expect(p.json!.error!.code).toBe('NOT_FOUND');
      expect(await hostFingerprint(h)).toBe(before);
    } finally {
      await h.exec(['ip', 'link', 'del', 'evil0']);
    }
  });

  it('--replace to a new range moves the shim: the old address and route are gone, status is right, a re-apply has nothing to do', async () => {
    const h = lab.host('h1');
    expect((await macvlanctl(h, ['apply', ...RECIPE, '--yes'], { root: dir })).code).toBe(0);
    expect(await shimAddrs(h)).toEqual(['198.51.100.223/32']);
    const r = await macvlanctl(h, ['apply', ...MOVED, '--yes', '--replace', '--json'], { root: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.result.remaining).toBe(0);
    expect(await shimAddrs(h)).toEqual(['198.51.100.191/32']);
    expect(await shimRoutes(h)).toEqual(['198.51.100.160/27']);
    const status = await macvlanctl(h, ['status', 'mynet', '--json'], { root: dir });
    expect(status.code, status.stdout).toBe(0);
    expect(status.json!.result.networks[0]).toMatchObject({ healthy: true, shim: { address: '198.51.100.191', routes: ['198.51.100.160/27'] } });
    const again = await macvlanctl(h, ['apply', ...MOVED, '--yes'], { root: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/No changes/);
    // the drift a user can make by hand is seen the same way, and apply takes it off
    await h.exec(['ip', 'addr', 'add', '198.51.100.223/32', 'dev', 'mynet-shim'], { check: true });
    const seen = await macvlanctl(h, ['status', 'mynet', '--json'], { root: dir });
    expect(seen.code).toBe(1);
    expect(seen.json!.result.networks[0].problems).toContain('shim mynet-shim still holds the stale address 198.51.100.223/32');
    expect((await macvlanctl(h, ['destroy', 'mynet', '--yes'], { root: dir })).code).toBe(0);
  });

  it('a Docker create that times out is undone once the engine makes it, and the host is as it was', async () => {
    const h = lab.host('h1');
    const sockDir = mkdtempSync(join(tmpdir(), 'mvl-proxy-'));
    const proxySock = join(sockDir, 'docker.sock');
    const proxy = stallingProxy(proxySock, h.docker!.socket, 2500);
    try {
      const before = await hostFingerprint(h);
      const nets = await dockerNetworks(h);
      const started = Date.now();
      const r = await h.exec([process.execPath, BIN, 'apply', ...RECIPE, '--yes', '--no-scan', '--json', '--docker-host', `unix://${proxySock}`, '--root', dir], {
        env: { ...process.env, NO_COLOR: '1', MACVLANCTL_DOCKER_TIMEOUT_MS: '1000' },
        timeoutMs: 60_000,
      });
      const json = JSON.parse(r.stdout);
      expect(r.code, r.stderr).toBe(1);
      expect(json.error.message).toMatch(/did not answer POST \/networks\/create within 1000 ms/);
      expect(json.error.message).toMatch(/the host is as it was/);
      expect(r.stderr).toMatch(/↺ remove Docker network mynet \(made by the engine after the request timed out\)/);
      expect(Date.now() - started).toBeLessThan(20_000);
      // and it does not appear later either
      await sleep(3000);
      expect(await dockerNetworks(h)).toBe(nets);
      expect(await hostFingerprint(h)).toBe(before);
    } finally {
      await proxy.close();
      rmSync(sockDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('SIGINT at any moment of an apply leaves the host as before or fully applied, never half; exit 130 when it came mid-way', async () => {
    const h = lab.host('h1');
    const pristine = await hostFingerprint(h);
    const pristineNets = await dockerNetworks(h);
    const outcomes: string[] = [];
    // Delays after the start (most land in start-up or planning), then after "Applying:" is printed,
    // so that some surely land among the operations themselves.
    const moments: { after: 'start' | 'Applying:'; ms: number }[] = [
      ...[0, 50, 100, 200, 400].map((ms) => ({ after: 'start' as const, ms })),
      ...[0, 5, 15, 30, 60].map((ms) => ({ after: 'Applying:' as const, ms })),
    ];
    for (const m of moments) {
      const run = spawnCli(h, ['apply', ...RECIPE, '--yes', '--no-scan'], dir);
      if (m.after === 'Applying:') {
        await new Promise<void>((r) => {
          const check = (d: Buffer) => {
            if (d.toString().includes('Applying:')) {
              run.child.stderr!.off('data', check);
              r();
            }
          };
          run.child.stderr!.on('data', check);
          run.child.on('close', () => r());
        });
      }
      await sleep(m.ms);
      run.child.kill('SIGINT');
      const end = await run.done;
      const plan = await macvlanctl(h, ['plan', ...RECIPE, '--json'], { root: dir });
      const pending = plan.json!.result.changes.filter((c: { action: string }) => c.action !== 'noop').length;
      const asBefore = (await hostFingerprint(h)) === pristine && (await dockerNetworks(h)) === pristineNets && !existsSync(join(dir, 'var/lib/macvlanctl/mynet.json'));
      const applied = pending === 0;
      outcomes.push(`${m.ms} ms after ${m.after}: ${asBefore ? 'as before' : applied ? 'applied' : 'HALF'} (exit ${end.code ?? end.signal})`);
      expect(asBefore || applied, `SIGINT ${m.ms} ms after ${m.after} left the host half-changed:\n${end.stderr}`).toBe(true);
      if (end.stderr.includes('stopping after the current step')) {
        expect(end.code, end.stderr).toBe(130);
        if (end.stderr.includes('apply interrupted (')) expect(asBefore, end.stderr).toBe(true);
        expect(end.stderr).not.toMatch(/rollback was incomplete/);
      }
      if (applied) expect((await macvlanctl(h, ['destroy', 'mynet', '--yes'], { root: dir })).code).toBe(0);
      expect(await hostFingerprint(h)).toBe(pristine);
      expect(await dockerNetworks(h)).toBe(pristineNets);
    }
    console.log(`SIGINT outcomes:\n${outcomes.join('\n')}`);
    // some must have hit the operations themselves and been rolled back, or this proves nothing
    expect(outcomes.some((o) => /as before \(exit 130\)/.test(o)), outcomes.join('\n')).toBe(true);
  }, 300_000);

  it('SIGINT during destroy: it finishes (a half-removed network is worse), then exits 130', async () => {
    const h = lab.host('h1');
    const pristine = await hostFingerprint(h);
    const pristineNets = await dockerNetworks(h);
    expect((await macvlanctl(h, ['apply', ...RECIPE, '--yes'], { root: dir })).code).toBe(0);
    const run = spawnCli(h, ['destroy', 'mynet', '--yes'], dir);
    await new Promise<void>((r) => {
      const check = (d: Buffer) => {
        if (d.toString().includes('✓')) {
          run.child.stderr!.off('data', check);
          r();
        }
      };
      run.child.stderr!.on('data', check);
      run.child.on('close', () => r());
    });
    run.child.kill('SIGINT');
    const end = await run.done;
    expect(end.stderr).toMatch(/SIGINT: destroy finishes what it started/);
    expect(end.code, end.stderr).toBe(130);
    expect(await hostFingerprint(h)).toBe(pristine);
    expect(await dockerNetworks(h)).toBe(pristineNets);
    expect(existsSync(join(dir, 'var/lib/macvlanctl/mynet.json'))).toBe(false);
  });

  it('a .tmp left by a killed writer does not survive re-apply and destroy', async () => {
    const h = lab.host('h1');
    const stateDir = join(dir, 'var/lib/macvlanctl');
    expect((await macvlanctl(h, ['apply', ...RECIPE, '--yes'], { root: dir })).code).toBe(0);
    // what SIGKILL between open and rename leaves: a pid that is gone
    const dead = spawn('true');
    await new Promise((r) => dead.on('close', r));
    writeFileSync(join(stateDir, `.mynet.json.macvlanctl-${dead.pid}.tmp`), '{"half');
    writeFileSync(join(stateDir, `.mynet.json.${dead.pid}.tmp`), '{"half'); // the name older releases used
    expect((await macvlanctl(h, ['apply', ...MOVED, '--yes', '--replace'], { root: dir })).code).toBe(0);
    expect(readdirSync(stateDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    writeFileSync(join(stateDir, `.mynet.json.macvlanctl-${dead.pid}.tmp`), '{"half');
    expect((await macvlanctl(h, ['destroy', 'mynet', '--yes'], { root: dir })).code).toBe(0);
    expect(readdirSync(stateDir)).toEqual([]);
  });
});
