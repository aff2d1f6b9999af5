/**
 * The compiled SidecarPolicy schema. From the sources it is compiled at module load;
 * `npm run build` replaces this module with ajv's standalone code for the same schema and
 * options (scripts/build.ts), since compiling is most of what a short command spends
 * before it reads a policy.
 */
import { Ajv, type Options } from 'ajv';
import { SidecarPolicySchema, type SidecarPolicy } from './schema.ts';

/**
 * AJV_OPTIONS are the validator's options, shared with the build's standalone code.
 * `verbose` gives each error its parentSchema, which validate.ts's messages need (allowed
 * values, known field names).
 */
export const AJV_OPTIONS: Options = { allErrors: true, verbose: true, strict: true };

// Compiled once: a reload of the policies directory then costs only the validation.
const ajv = new Ajv(AJV_OPTIONS);

/** validateSchema checks one parsed document against the SidecarPolicy schema. */
export const validateSchema = ajv.compile<SidecarPolicy>(SidecarPolicySchema);
