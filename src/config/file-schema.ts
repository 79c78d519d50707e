/**
 * The shapes of a declaration file, as zod schemas: which keys exist where and
 * what type each value has. Values are parsed later (to-desired.ts); here only
 * shapes are checked, and file-messages.ts turns each zod issue into a
 * sentence at its place.
 *
 * To add a block to a network (say `swarm:`), add its schema to
 * `networkFields` (both formats take that vocabulary: macvlanctl.yaml networks
 * and Compose's `x-macvlanctl:`), a hint for its key in file-messages.ts
 * FIELD_HINTS, and read it in network-builder.ts readSettings. Unknown-key
 * suggestions and type messages follow the schema by themselves
 * (schema-path.ts walks it).
 */
import { z } from 'zod';

const text = z.string();

const familySchema = z.strictObject({
  subnet: text.optional(),
  gateway: text.optional(),
  ip_range: text.optional(),
  host_address: text.optional(),
});

const hostAccessSchema = z.union([
  z.boolean(),
  z.strictObject({
    interface: text.optional(),
    address: text.optional(),
  }),
]);

/** The keys of one network in macvlanctl.yaml, and of Compose's `x-macvlanctl:`. */
const networkFields = {
  parent: text.optional(),
  subnet: text.optional(),
  gateway: text.optional(),
  ip_range: text.optional(),
  host_address: text.optional(),
  avoid: z.array(text).optional(),
  aux_addresses: z.record(z.string(), text).optional(),
  mode: text.optional(),
  host_access: hostAccessSchema.optional(),
  persist: text.optional(),
  ipv6: familySchema.optional(),
};

/** One network in macvlanctl.yaml, and the contents of Compose's `x-macvlanctl:`. */
export const networkSchema = z.strictObject(networkFields);

export const macvlanctlFileSchema = z.strictObject({
  networks: z.record(z.string(), networkSchema.nullable()).nullable().optional(),
});

const ipamEntrySchema = z.strictObject({
  subnet: text.optional(),
  gateway: text.optional(),
  ip_range: text.optional(),
  aux_addresses: z.record(z.string(), text).optional(),
});

/** Compose's network keys; only the macvlan ones are checked this closely. */
export const composeNetworkSchema = z.strictObject({
  name: text.optional(),
  driver: text.optional(),
  driver_opts: z
    .strictObject({
      parent: text.optional(),
      macvlan_mode: text.optional(),
    })
    .optional(),
  ipam: z
    .strictObject({
      driver: text.optional(),
      config: z.array(ipamEntrySchema).optional(),
      options: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  external: z.unknown().optional(),
  enable_ipv6: z.unknown().optional(),
  enable_ipv4: z.unknown().optional(),
  labels: z.unknown().optional(),
  attachable: z.unknown().optional(),
  internal: z.unknown().optional(),
  'x-macvlanctl': networkSchema.nullable().optional(),
});

/** A Compose file as a whole: only `networks:` is looked at (each network is checked by composeNetworkSchema). */
export const composeFileSchema = z.looseObject({
  networks: z.record(z.string(), z.looseObject({}).nullable()).nullable().optional(),
});
