// The request bodies the API accepts, as zod schemas. The routes read them by name through
// readJson (http.ts), which loads this module, and zod with it, at the first body it checks:
// a server that has only answered reads has not paid for zod.
import * as z from 'zod';

export const bodies = {
  repo: z.union([z.strictObject({ name: z.string(), path: z.string() }), z.strictObject({ name: z.string(), url: z.string() })], {
    error: 'expected {"name", "path"} or {"name", "url"}',
  }),
  run: z.strictObject({
    ref: z.string().min(1).optional(),
    sha: z.string().regex(/^[0-9a-f]{7,40}$/, { error: 'sha must be a hex commit id' }).optional(),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).optional(),
  }),
  secret: z.strictObject({ value: z.string().max(64 * 1024) }),
  rerun: z.strictObject({ failed_only: z.boolean().optional() }),
};

export type Bodies = { [K in keyof typeof bodies]: z.infer<(typeof bodies)[K]> };
