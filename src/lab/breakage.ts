// Breakages of the host side that `macvlanctl watch` must heal, done to a lab host the way they happen on a
// real one (issue 12): someone deletes the shim or its route, the parent goes down and up, the parent is
// deleted and re-created (a bridge re-made by a network-manager restart, a USB NIC re-plugged: the kernel
// deletes every macvlan on it), dockerd restarts. Used by the e2e tests and bench/watch.mjs.

import type { Lab, LabHost } from './types.js';

export async function deleteLink(h: LabHost, name: string): Promise<void> {
  await h.exec(['ip', 'link', 'del', 'dev', name], { check: true });
}

export async function deleteRoute(h: LabHost, destination: string, dev: string): Promise<void> {
  await h.exec(['ip', 'route', 'del', destination, 'dev', dev], { check: true });
}

/** The parent administratively down, then up again; the default route the kernel dropped is put back, as a network manager would. */
export async function bounceParent(lab: Lab, h: LabHost): Promise<void> {
  await h.exec(['ip', 'link', 'set', h.nic, 'down'], { check: true });
  await h.exec(['ip', 'link', 'set', h.nic, 'up'], { check: true });
  await h.exec(['ip', 'route', 'replace', 'default', 'via', lab.gateway, 'dev', h.nic], { check: true });
}

/**
 * The parent veth deleted (with it the kernel deletes the shim and every container's macvlan) and made
 * again as the lab made it: same name and MAC, the peer re-bridged, the address and default route re-added.
 * `pauseMs` keeps the host without a parent for a while (a re-plug takes time).
 */
export async function recreateParent(lab: Lab, h: LabHost, opts: { pauseMs?: number } = {}): Promise<void> {
  const peer = `p-${h.name}`;
  await h.exec(['ip', 'link', 'del', 'dev', h.nic], { check: true });
  if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
  await h.exec(['ip', 'link', 'add', h.nic, 'address', h.mac, 'type', 'veth', 'peer', 'name', peer, 'netns', lab.lanNetns], { check: true });
  await lab.lanExec(['ip', 'link', 'set', peer, 'master', 'br0'], { check: true });
  await lab.lanExec(['ip', 'link', 'set', peer, 'up'], { check: true });
  await h.exec(['ip', 'addr', 'add', `${h.address}/${h.prefixLength}`, 'dev', h.nic], { check: true });
  if (h.address6) await h.exec(['ip', 'addr', 'add', `${h.address6}/64`, 'dev', h.nic, 'nodad'], { check: true });
  await h.exec(['ip', 'link', 'set', h.nic, 'up'], { check: true });
  await h.exec(['ip', 'route', 'replace', 'default', 'via', lab.gateway, 'dev', h.nic], { check: true });
  if (h.address6 && lab.gateway6) await h.exec(['ip', 'route', 'replace', 'default', 'via', lab.gateway6, 'dev', h.nic], { check: true });
}
