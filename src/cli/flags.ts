/**
 * One table of flags per verb. Each flag has an environment twin (`--sidecar-mode` is
 * `TANDEM_SIDECAR_MODE`), derived from its name so that a flag added to a table gets
 * its twin, its parsing and its line in `--help` at once. A flag given on the command
 * line wins over its twin, and the twin over the default.
 */
import { parseArgs } from 'node:util';
import { TandemError } from '../errors.ts';

/** FlagSpec describes one flag of a verb. */
export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** arg names the value in `--help` (`FILE`, `DIR`); string flags only. */
  readonly arg?: string;
  readonly default?: string;
  /** help is the flag's description; it may span lines. */
  readonly help: string;
}

/** FlagTable is a verb's flags by long name, in the order `--help` lists them. */
export type FlagTable = Readonly<Record<string, FlagSpec>>;

/** FlagValues is what a table's flags come to once read: a string flag with a default is always set. */
export type FlagValues<T extends FlagTable> = {
  readonly [K in keyof T]: T[K]['type'] extends 'boolean'
    ? boolean
    : T[K] extends { readonly default: string }
      ? string
      : string | undefined;
};

/** ParsedFlags is the values, the positionals and whether help was asked for. */
export interface ParsedFlags<T extends FlagTable> {
  readonly values: FlagValues<T>;
  readonly positionals: readonly string[];
  readonly help: boolean;
}

/** envTwin is the environment variable that stands for `--name`. */
export function envTwin(name: string): string {
  return `TANDEM_${name.toUpperCase().replace(/-/g, '_')}`;
}

function readBoolean(name: string, raw: string): boolean {
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0' || raw === '') return false;
  throw new TandemError(
    'TANDEM_ERR_CONFIG',
    `${envTwin(name)} must be true, false, 1 or 0, not "${raw}"`,
  );
}

/** flagValue is a flag's value: as given, else its environment twin's, else its default. */
function flagValue(
  name: string,
  spec: FlagTable[string],
  given: string | boolean | undefined,
  twin: string | undefined,
): string | boolean | undefined {
  if (spec.type === 'boolean') {
    return given === true || (given === undefined && readBoolean(name, twin ?? ''));
  }
  return typeof given === 'string' ? given : (twin ?? spec.default);
}

/**
 * parseFlags reads `args` against `table`, filling each flag not given from its twin
 * in `env`, then from its default. Unknown flags throw parseArgs' usage errors.
 */
export function parseFlags<T extends FlagTable>(
  table: T,
  args: readonly string[],
  options: { readonly positionals?: boolean; readonly env?: NodeJS.ProcessEnv } = {},
): ParsedFlags<T> {
  const env = options.env ?? process.env;
  const config: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, spec] of Object.entries(table)) {
    config[name] =
      spec.short === undefined ? { type: spec.type } : { type: spec.type, short: spec.short };
  }
  const parsed = parseArgs({
    args: [...args],
    options: config,
    allowPositionals: options.positionals === true,
    strict: true,
  });
  const values: Record<string, string | boolean | undefined> = {};
  for (const [name, spec] of Object.entries(table)) {
    values[name] = flagValue(name, spec, parsed.values[name], env[envTwin(name)]);
  }
  return {
    values: values as FlagValues<T>,
    positionals: parsed.positionals,
    help: parsed.values.help === true,
  };
}

const COLUMN = 28;

/** flagLines is the `Options:` part of a verb's `--help`: every flag, its twin and default. */
export function flagLines(table: FlagTable): string {
  const lines: string[] = [];
  for (const [name, spec] of Object.entries(table)) {
    const short = spec.short === undefined ? '    ' : `-${spec.short}, `;
    const arg = spec.type === 'string' ? ` ${spec.arg ?? 'VALUE'}` : '';
    const left = `  ${short}--${name}${arg}`;
    const notes = [`env ${envTwin(name)}`];
    if (spec.default !== undefined && spec.default !== '') notes.push(`default: ${spec.default}`);
    const help = [...spec.help.split('\n'), `(${notes.join(', ')})`];
    const first = left.length < COLUMN ? left.padEnd(COLUMN) : `${left}\n${' '.repeat(COLUMN)}`;
    lines.push(`${first}${help.join(`\n${' '.repeat(COLUMN)}`)}`);
  }
  lines.push(`${'  -h, --help'.padEnd(COLUMN)}show this help`);
  return `${lines.join('\n')}\n`;
}
