/**
 * The declaration flags shared by plan, apply and render. They mirror
 * `docker network create` where Docker has the same thing.
 */
import type { Command } from 'commander';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function addNetworkOptions(cmd: Command): Command {
  cmd
    .option('-f, --file <file>', 'read networks from macvlanctl.yaml or a Docker Compose file')
    .option('-p, --project-name <name>', 'Compose project name, as for docker compose -p (default: COMPOSE_PROJECT_NAME, the file’s name:, else its directory’s name)')
    .option('--parent <if>', 'the host interface that faces the LAN (default: the IPv4 default route’s)')
    .option('--subnet <cidr>', 'LAN subnet; once per family (default: the parent’s)', collect)
    .option('--gateway <ip>', 'the router; once per family (default: the default route’s)', collect)
    .option('--ip-range <cidr|auto|auto/N>', 'addresses Docker may hand out (default: auto, a free /27)', collect)
    .option('--aux-address <name=ip>', 'an address Docker must not hand out; host=IP sets the shim’s (repeatable)', collect)
    .option('--avoid <range>', 'keep the ip-range clear of A-B, an address or a CIDR, e.g. the DHCP pool (repeatable)', collect)
    .option('--mode <mode>', 'macvlan mode: bridge, private, vepa or passthru')
    .option('--host-access', 'create the host shim so host and containers reach each other (default)')
    .option('--no-host-access', 'no shim: the host cannot reach its containers')
    .option('--shim <ifname>', 'name of the shim interface (default: NAME-shim)')
    .option('--host-address <ip|auto>', 'the shim’s address; once per family (default: auto, the top of the ip-range)', collect)
    .option('--persist <backend>', 'auto, networkd, networkmanager, ifupdown, systemd or none')
    .option('--no-scan', 'do not look at the LAN (live hosts, DHCP pool) before choosing or checking the ip-range')
    .option('--rescan', 'scan the LAN now instead of using a scan cached in the last 5 minutes')
    .option('--force', 'take an ip-range or host address even where the scan saw live hosts or DHCP offers');
  return addHostOptions(cmd);
}

/** Where the host's files and Docker engine are, and the output format: every command that reads the host takes these. */
export function addHostOptions(cmd: Command): Command {
  return cmd
    .option('--root <dir>', 'root directory for files read and written', '/')
    .option('--docker-host <url>', 'Docker engine endpoint (default: DOCKER_HOST, the Docker context, or the local socket)')
    .option('--json', 'print one JSON document on stdout');
}
