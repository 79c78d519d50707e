/**
 * Output conventions: with --json, stdout carries exactly one JSON document
 * (the envelope below), and everything else goes to stderr. Human output and
 * JSON are two presenters of the same result object.
 */
import { MacvlanError } from '../model/errors.js';
import { SCHEMA_VERSION } from '../present/schema-version.js';

export function jsonEnvelope(command: string, result: unknown): string {
  return `${JSON.stringify({ schemaVersion: SCHEMA_VERSION, command, ok: true, result }, null, 2)}\n`;
}

export function jsonErrorEnvelope(command: string, err: MacvlanError): string {
  return `${JSON.stringify(
    { schemaVersion: SCHEMA_VERSION, command, ok: false, error: { code: err.code, message: err.message, details: err.details } },
    null,
    2,
  )}\n`;
}

/** Progress and logs: stderr, so that stdout stays machine-readable. */
export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}
