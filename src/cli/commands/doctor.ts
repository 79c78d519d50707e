/**
 * `macvlanctl doctor [NAME]`: live checks of each network macvlanctl manages
 * (or of those declared with -f), each with a verdict and the fix. Exits 1
 * when a check fails; warnings (no persistence chosen, say) do not fail it.
 *
 * gather (src/doctor/gather.ts: host facts, records, LAN probe, pings) →
 * pure checks (src/doctor/checks) → present (human or --json).
 */
import { gatherDoctor, type DoctorOptions } from '../../doctor/gather.js';
import { presentDoctor } from '../../present/doctor.js';
import { checkNetwork, doctorReport } from '../../doctor/run-checks.js';
import type { DoctorReport } from '../../doctor/types.js';
import { jsonEnvelope, log } from '../output.js';

export type { DoctorOptions };

export async function buildDoctorReport(name: string | undefined, opts: DoctorOptions): Promise<DoctorReport> {
  const facts = await gatherDoctor(name, opts, { log });
  return doctorReport(facts.map((f) => checkNetwork(f)));
}

export async function runDoctor(name: string | undefined, opts: DoctorOptions): Promise<void> {
  const report = await buildDoctorReport(name, opts);
  if (opts.json) process.stdout.write(jsonEnvelope('doctor', report));
  else process.stdout.write(presentDoctor(report, process.stdout.isTTY === true));
  if (!report.ok) process.exitCode = 1;
}
