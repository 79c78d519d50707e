/**
 * The command line: the only place that catches errors, picks exit codes and
 * prints them. Command modules are loaded on demand so that start-up stays fast.
 */
import { Command, CommanderError } from 'commander';
import { MacvlanError } from '../model/errors.js';
import { VERSION } from '../version.js';
import { addHostOptions, addNetworkOptions } from './network-options.js';
import { jsonErrorEnvelope } from './output.js';

function toMacvlanError(e: unknown): MacvlanError {
  if (e instanceof MacvlanError) return e;
  if (e instanceof CommanderError) return new MacvlanError('USAGE', e.message.replace(/^error: /, ''), { commanderCode: e.code });
  const err = e as Error;
  return new MacvlanError('SYSTEM_ERROR', `unexpected failure: ${err?.stack ?? String(e)}`);
}

function buildProgram(): Command {
  const program = new Command('macvlanctl')
    .description('Put Docker containers directly on the LAN with macvlan, safely.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: () => {} }); // errors are printed by main(), once

  addNetworkOptions(
    program
      .command('plan')
      .argument('[name]', 'network name (optional with -f: all networks in the file)')
      .description('show what apply would do; changes nothing, needs no root')
      .option('--show-commands', 'also print the equivalent manual commands'),
  ).action(async (name: string | undefined, opts) => {
    const { runPlan } = await import('./commands/plan.js');
    await runPlan(name, opts);
  });

  addNetworkOptions(
    program
      .command('apply')
      .argument('[name]', 'network name (optional with -f: all networks in the file)')
      .description('create or repair the Docker network and the host shim; shows the plan and asks first')
      .option('-y, --yes', 'do not ask for confirmation (required without a terminal)')
      .option('--replace', 'replace a same-named Docker network whose settings differ (never while containers are attached)')
      .option('--lock-wait <seconds>', 'how long to wait for another apply to finish', '5'),
  ).action(async (name: string | undefined, opts) => {
    const { runApply } = await import('./commands/apply.js');
    await runApply(name, opts);
  });

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

  addHostOptions(
    program
      .command('destroy')
      .argument('<name>', 'network name')
      .description('remove what macvlanctl created for NAME: shim, route and Docker network')
      .option('-y, --yes', 'do not ask for confirmation (required without a terminal)')
      .option('--force', 'disconnect attached containers first'),
  ).action(async (name: string, opts) => {
      const { runDestroy } = await import('./commands/destroy.js');
      await runDestroy(name, opts);
    });

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

  return program;
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
    else process.stderr.write(`macvlanctl: error: ${err.message}\n`);
    return err.exitCode;
  }
}
