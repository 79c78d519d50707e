/** The real adapters behind apply and destroy's operations. */
import type { Ports } from '../apply/run-operations.js';
import { runIpBatch, runIpBatchForce, setInterfaceSysctl } from '../system/ip-batch.js';
import { realFilePort } from '../backends/write-files.js';
import { loadPersistence } from '../backends/load.js';
import { readStateText, removeState, stateText, writeStateText } from '../system/state-store.js';
import { log } from './output.js';
import { MacvlanError } from '../model/errors.js';

interface DockerLike {
  createNetwork(body: Parameters<Ports['docker']['createNetwork']>[0]): Promise<string>;
  removeNetwork(id: string): Promise<void>;
  /** Optional: only destroy disconnects containers; hostSidePorts' stand-in has none. */
  disconnectContainer?(network: string, container: string, opts: { force?: boolean }): Promise<void>;
  inspectNetwork(name: string): Promise<{ Id?: string; Labels?: Record<string, string> | null } | undefined>;
}

export function realPorts(docker: DockerLike, root: string): Ports {
  return {
    docker: {
      createNetwork: (b) => docker.createNetwork(b),
      removeNetwork: (id) => docker.removeNetwork(id),
      disconnectContainer: (network, container) =>
        docker.disconnectContainer
          ? docker.disconnectContainer(network, container, { force: true })
          : Promise.reject(new MacvlanError('SYSTEM_ERROR', `disconnect container ${container}: this command has no Docker client`)),
      findNetwork: async (name) => {
        const n = await docker.inspectNetwork(name);
        return n ? { id: n.Id ?? name, labels: n.Labels ?? {} } : undefined;
      },
    },
    ip: { batch: runIpBatch, batchForce: runIpBatchForce, sysctl: setInterfaceSysctl },
    state: {
      read: (name) => readStateText(root, name),
      write: (n) => writeStateText(root, n.name, stateText(n)),
      restore: (name, text) => (text === undefined ? removeState(root, name) : writeStateText(root, name, text)),
    },
    files: realFilePort(root),
    load: (req) => loadPersistence({ ...req, root }),
    log: (l) => log(l),
  };
}

/**
 * The adapters of a command that changes the host side only (up, down, watch): any Docker write
 * reaching them is a bug, and says which command made it.
 */
export function hostSidePorts(command: string, root: string): Ports {
  const never = () => Promise.reject(new MacvlanError('SYSTEM_ERROR', `${command} never changes Docker networks`));
  return realPorts({ createNetwork: never, removeNetwork: never, inspectNetwork: () => Promise.resolve(undefined) }, root);
}
