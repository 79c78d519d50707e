/**
 * The pure parts of `macvlanctl watch`'s triggers: debouncing, backoff, the
 * Docker events stream parsed from a captured body, reconnecting across an
 * engine restart, and the container's lost interface read from captured
 * /proc/PID/net/route files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Timers, debounce } from '../../src/system/watch/debounce.js';
import { backoffDelay } from '../../src/system/watch/backoff.js';
import { parseEventChunk } from '../../src/system/docker/client.js';
import { followEvents } from '../../src/system/watch/docker-events.js';
import { hasSubnetRoute, parseProcRoute } from '../../src/gather/container-netns.js';

const FIX = join(import.meta.dirname, '..', 'fixtures');

/** Timers driven by hand. */
function fakeTimers() {
  let now = 0;
  let seq = 0;
  const due = new Map<number, { at: number; fn: () => void }>();
  const timers: Timers = {
    set: (fn, ms) => {
      const id = ++seq;
      due.set(id, { at: now + ms, fn });
      return id;
    },
    clear: (h) => void due.delete(h as number),
    now: () => now,
  };
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      const next = [...due.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      now = next[1].at;
      due.delete(next[0]);
      next[1].fn();
    }
    now = end;
  };
  return { timers, advance };
}

describe('debounce', () => {
  it('one call per burst, quietMs after its last trigger', () => {
    const t = fakeTimers();
    let calls = 0;
    const d = debounce(() => calls++, { quietMs: 15, maxWaitMs: 100 }, t.timers);
    for (let i = 0; i < 10; i++) {
      d.trigger();
      t.advance(1);
    }
    expect(calls).toBe(0);
    t.advance(14);
    expect(calls).toBe(1);
    t.advance(1000);
    expect(calls).toBe(1);
  });

  it('a steady stream cannot postpone the call beyond maxWaitMs', () => {
    const t = fakeTimers();
    const at: number[] = [];
    const d = debounce(() => at.push(t.timers.now()), { quietMs: 15, maxWaitMs: 100 }, t.timers);
    for (let i = 0; i < 30; i++) {
      d.trigger();
      t.advance(10);
    }
    expect(at[0]).toBe(100);
    expect(at.length).toBeGreaterThanOrEqual(2);
  });

  it('cancel drops a pending call', () => {
    const t = fakeTimers();
    let calls = 0;
    const d = debounce(() => calls++, { quietMs: 15, maxWaitMs: 100 }, t.timers);
    d.trigger();
    expect(d.pending).toBe(true);
    d.cancel();
    t.advance(1000);
    expect(calls).toBe(0);
  });
});

describe('backoff', () => {
  it('starts soon, doubles, and stops at the ceiling', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((a) => backoffDelay(a))).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    expect(backoffDelay(10_000)).toBe(5000);
    expect(backoffDelay(-1)).toBe(100);
    expect(backoffDelay(Number.NaN)).toBe(100);
  });
});

describe('Docker events stream', () => {
  const body = readFileSync(join(FIX, 'docker', 'events-run-rm.jsonl'), 'utf8');

  it('parses a captured stream: connect, start, die, disconnect', () => {
    const { events, rest } = parseEventChunk(body);
    expect(rest).toBe('');
    expect(events.map((e) => `${e.Type} ${e.Action}`)).toEqual(['network connect', 'container start', 'container die', 'network disconnect']);
    expect(events[0]!.Actor?.Attributes).toMatchObject({ name: 'mynet', type: 'macvlan' });
  });

  it('keeps a chunk that ends mid-object for the next one, whatever the split', () => {
    for (let cut = 1; cut < body.length; cut += 37) {
      const a = parseEventChunk(body.slice(0, cut));
      const b = parseEventChunk(a.rest + body.slice(cut));
      expect([...a.events, ...b.events].map((e) => e.Action)).toEqual(['connect', 'start', 'die', 'disconnect']);
    }
  });

  it('skips a line that is not an event instead of failing', () => {
    expect(parseEventChunk('garbage\n{"x":1}\n{"Type":"container","Action":"start"}\n').events).toHaveLength(1);
  });
});

describe('following the events across engine restarts', () => {
  it('reconnects after the stream ends and after failed connects, reporting each connection for a full resync', async () => {
    const controller = new AbortController();
    const log: string[] = [];
    let connects = 0;
    await followEvents<number>({
      signal: controller.signal,
      backoff: { initialMs: 1, maxMs: 2, factor: 2 },
      connect: async () => {
        connects++;
        // 1: up; 2, 3: dockerd restarting (refused); 4: up again
        if (connects === 2 || connects === 3) throw new Error('connection refused');
        return connects;
      },
      stream: async (client, o) => {
        o.onOpen?.();
        o.onEvent({ Type: 'container', Action: 'start' });
        if (client === 4) controller.abort();
      },
      onConnected: (c) => log.push(`connected ${c}`),
      onLost: (why, attempt) => log.push(`lost (${attempt}): ${why}`),
      onEvent: (e) => log.push(`event ${e.Action}`),
    });
    expect(log).toEqual([
      'connected 1',
      'event start',
      'lost (0): the engine closed the events stream (dockerd stopped or restarted)',
      'lost (1): connection refused',
      'lost (2): connection refused',
      'connected 4',
      'event start',
    ]);
  });

  it('ends at once when aborted while waiting to retry', async () => {
    const controller = new AbortController();
    const t0 = Date.now();
    setTimeout(() => controller.abort(), 20);
    await followEvents<number>({
      signal: controller.signal,
      backoff: { initialMs: 60_000, maxMs: 60_000, factor: 1 },
      connect: () => Promise.reject(new Error('no engine')),
      stream: () => Promise.resolve(),
      onConnected: () => {},
      onLost: () => {},
      onEvent: () => {},
    });
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe('a container’s interface, from its /proc/PID/net/route', () => {
  const present = readFileSync(join(FIX, 'proc', 'container-route.txt'), 'utf8');
  const lost = readFileSync(join(FIX, 'proc', 'container-route-lost.txt'), 'utf8');

  it('reads destinations and masks in network order', () => {
    expect(parseProcRoute(present)).toEqual([
      { iface: 'eth0', destination: 0, mask: 0 },
      { iface: 'eth0', destination: 0xc6336400, mask: 0xffffff00 },
    ]);
  });

  it('the subnet route is there while the interface is, and gone with it', () => {
    expect(hasSubnetRoute(present, '198.51.100.0/24')).toBe(true);
    expect(hasSubnetRoute(present, '203.0.113.0/24')).toBe(false);
    expect(hasSubnetRoute(lost, '198.51.100.0/24')).toBe(false);
  });
});
