/**
 * The command line: the only place that catches errors, picks exit codes and
 * prints them. Command modules are loaded on demand so that start-up stays fast.
 */
import { Command, CommanderError } from 'commander';
import { MacvlanError } from '../model/errors.js';
import { VERSION } from '../version.js';
import { addHostOptions, addNetworkOptions } from './network-options.js';
import { exitCodeForSignal } from './interrupt.js';
import { jsonErrorEnvelope } from './output.js';
import { terminalSafe } from '../config/shown-name.js';

function toMacvlanError(e: unknown): MacvlanError {
  if (e instanceof MacvlanError) return e;
  if (e instanceof CommanderError) return new MacvlanError('USAGE', e.message.replace(/^error: /, ''), { commanderCode: e.code });
  const err = e as Error;
  return new MacvlanError('SYSTEM_ERROR', `unexpected failure: ${err?.stack ?? String(e)}`);
}

/** The program and its commands, in the order `--help` lists them. */
function buildProgram(): Command {
  const program = new Command('macvlanctl')
    .description('Put Docker containers directly on the LAN with macvlan, safely.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: () => {} }); // errors are printed by main(), once

  addPlanCommand(program);
  addApplyCommand(program);
  addStatusCommand(program);
  addDestroyCommand(program);
  addRenderCommand(program);
  addUpDownCommands(program);
  addWatchCommand(program);
  addScanCommand(program);
  addDoctorCommand(program);
  addDemoCommand(program);
  return program;
}

function addPlanCommand(program: Command): void {
  addNetworkOptions(
    program
      .command('plan')
      .argument('[name]', 'network name (optional with -f: all networks in the file)')
      .description('show what apply would do; changes nothing, needs no root')
      .option('--show-commands', 'also print the equivalent manual commands')
      .option('--replace', 'plan a same-named Docker network whose settings differ as a replace (-/+), as apply --replace would')
      .option('--destroy', 'show what destroy NAME would remove (with --force: disconnecting attached containers); changes nothing'),
  ).action(async (name: string | undefined, opts) => {
    const { runPlan } = await import('./commands/plan.js');
    await runPlan(name, opts);
  });
}

function addApplyCommand(program: Command): void {
  addNetworkOptions(
    program
      .command('apply')
      .argument('[name]', 'network name (optional with -f: all networks in the file)')
      .description('create or repair the Docker network and the host shim; shows the plan and asks first')
      .option('-y, --yes', 'do not ask for confirmation (required without a terminal)')
      .option('--replace', 'replace a same-named Docker network whose settings differ (never while containers are attached)')
      .option('--lock-wait <seconds>', 'how long to wait for another apply to finish', '5')
      .option('--write-compose', 'put the values the Compose network depends on (a carved ip_range, the shim’s aux address) into the Compose file, after showing the diff and asking'),
  ).action(async (name: string | undefined, opts) => {
    const { runApply } = await import('./commands/apply.js');
    await runApply(name, opts);
  });
}

function addStatusCommand(program: Command): void {
  addHostOptions(
    program
      .command('status')
      .argument('[name]', 'one network (default: all managed by macvlanctl)')
      .description('show managed networks, their shims, containers and whether the host reaches them')
      .option('--no-reach', 'skip the reachability checks'),
  ).action(async (name: string | undefined, opts) => {
    const { runStatus } = await import('./commands/status.js');
    await runStatus(name, opts);
  });
}

function addDestroyCommand(program: Command): void {
  addHostOptions(
    program
      .command('destroy')
      .argument('<name>', 'network name')
      .description('remove what macvlanctl created for NAME: shim, route, persistence files and Docker network')
      .option('-y, --yes', 'do not ask for confirmation (required without a terminal)')
      .option('--force', 'disconnect attached containers first')
      .option('--lock-wait <seconds>', 'how long to wait for another macvlanctl to finish', '5'),
  ).action(async (name: string, opts) => {
    const { runDestroy } = await import('./commands/destroy.js');
    await runDestroy(name, opts);
  });
}

function addRenderCommand(program: Command): void {
  addNetworkOptions(
    program
      .command('render')
      .argument('[name]', 'network name (optional with -f: all networks in the file)')
      .description('print the persistence files apply would write, without writing them')
      .option('--backend <backend>', 'networkd, networkmanager, ifupdown or systemd (default: --persist, else auto)'),
  ).action(async (name: string | undefined, opts) => {
    const { runRender } = await import('./commands/render.js');
    await runRender(name, opts);
  });
}

/** `up` and `down`: the same options, one handler. */
function addUpDownCommands(program: Command): void {
  for (const [verb, what] of [
    ['up', 'bring the host side of NAME up from the record apply keeps (what the systemd unit runs at boot; needs no Docker)'],
    ['down', 'take the host side of NAME down (the shim and its routes); the Docker network stays'],
  ] as const) {
    addHostOptions(
      program
        .command(verb)
        .argument('<name>', 'network name')
        .description(what)
        .option('--lock-wait <seconds>', 'how long to wait for another macvlanctl to finish', '5'),
    ).action(async (name: string, opts) => {
      const { runUpDown } = await import('./commands/up-down.js');
      await runUpDown(verb, name, opts);
    });
  }
}

function addWatchCommand(program: Command): void {
  addHostOptions(
    program
      .command('watch')
      .argument('[names...]', 'networks to watch (default: every network macvlanctl applied under --root)')
      .description('keep the host side of managed networks right: repair shims, addresses and routes when they break, restart containers that lost their interface (runs until SIGTERM/SIGINT)')
      .option('--no-restart-containers', 'only report containers that lost their interface, do not restart them')
      .option('--no-docker', 'do not follow the Docker engine (the host side alone, as up)')
      .option('--lock-wait <seconds>', 'how long a repair waits for another macvlanctl to finish', '30')
      .option('--install', 'write and enable macvlanctl-watch.service under --root (Restart=on-failure, after the network and Docker), and start it when systemd runs there')
      .option('--uninstall', 'stop and remove macvlanctl-watch.service'),
  ).action(async (names: string[], opts) => {
    const { runWatchCommand } = await import('./commands/watch.js');
    await runWatchCommand(names, opts);
  });
}

function addScanCommand(program: Command): void {
  addHostOptions(
    program
      .command('scan')
      .description('find live hosts and DHCP servers on the LAN and draw the address map (needs root; sends ARP, DHCPDISCOVER and one IPv6 all-nodes echo only)')
      .option('--parent <if>', 'the interface that faces the LAN (default: the IPv4 default route’s)')
      .option('--subnet <cidr>', 'subnet to scan; once per family, IPv6 neighbours are asked with an all-nodes echo (default: the parent’s)', (v: string, p: string[] | undefined) => [...(p ?? []), v])
      .option('--rate <pps>', 'at most this many probes per second', '2000')
      .option('--no-dhcp', 'skip the DHCP probe')
      .option('--no-live', 'skip the live-host sweep')
      .option('--dhcp-wait <seconds>', 'how long to collect DHCP offers', '3.5'),
  ).action(async (opts) => {
    const { runScan } = await import('./commands/scan.js');
    await runScan(opts);
  });
}

function addDoctorCommand(program: Command): void {
  addHostOptions(
    program
      .command('doctor')
      .argument('[name]', 'one network (default: all managed by macvlanctl)')
      .description('run live checks on managed networks, each with a verdict and the fix; exit 1 when one fails')
      .option('-f, --file <file>', 'also compare with the declaration in macvlanctl.yaml or a Compose file')
      .option('-p, --project-name <name>', 'Compose project name, as for docker compose -p')
      .option('--no-scan', 'skip the checks that probe the LAN')
      // Doctor's checks always probe the LAN afresh (they never read the scan cache): accepted so that one habit works for plan, apply and doctor.
      .option('--rescan', 'probe the LAN afresh (doctor always does; it never uses the scan cache)'),
  ).action(async (name: string | undefined, opts) => {
    const { runDoctor } = await import('./commands/doctor.js');
    await runDoctor(name, opts);
  });
}

function addDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('show the main job on a sandbox LAN in network namespaces (needs root; touches nothing else)')
    .option('--install-deps', 'install missing Debian packages with apt-get first')
    .option('--keep', 'leave the sandbox running at the end')
    .option('--cleanup', 'remove a sandbox left by --keep')
    .option('--json', 'print one JSON document on stdout (the narration goes to stderr)')
    .action(async (opts) => {
      const { runDemo } = await import('./commands/demo.js');
      await runDemo(opts);
    });
}

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const command = argv.find((a) => !a.startsWith('-')) ?? '';
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError && (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')) {
      return 0;
    }
    const err = toMacvlanError(e);
    if (json) process.stdout.write(jsonErrorEnvelope(command, err));
    else process.stderr.write(`macvlanctl: error: ${terminalSafe(err.message)}\n`);
    // An apply or destroy stopped by a signal exits as the shell expects (src/cli/interrupt.ts).
    return (err.code === 'ABORTED' ? exitCodeForSignal(err.details.signal) : undefined) ?? err.exitCode;
  }
}
