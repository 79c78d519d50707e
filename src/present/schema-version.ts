/** The version of every JSON document and JSON line the commands print. */
/*
 * 2 since issue #11: plan changes carry structured before/after, a changed Docker network is
 * `replace` (not `update`), `shim-mtu` has before/after instead of mtu/was, and there is a `record`
 * kind. A consumer of 1 would misread those, so the number says so.
 */
export const SCHEMA_VERSION = 2;
