/**
 * The command line: picks the verb and hands over its arguments. Each verb lives in
 * `src/cli/<verb>.ts` and is loaded only when used, so `tandem lint` does not load the
 * server.
 */

import type { FlagTable } from './cli/flags.ts';

/** VerbModule is what every `src/cli/<verb>.ts` exports. */
export interface VerbModule {
  /** run executes the verb and returns the process exit code. */
  run(args: string[]): Promise<number>;
  /** FLAGS is the verb's table of flags, each with its environment twin (flags.ts). */
  readonly FLAGS: FlagTable;
}

/** VERBS are the command line's verbs, each loaded only when used. */
export const VERBS: Record<string, { summary: string; load: () => Promise<VerbModule> }> = {
  serve: { summary: 'run the admission webhook', load: () => import('./cli/serve.ts') },
  inject: {
    summary: 'inject policies into manifests offline',
    load: () => import('./cli/inject.ts'),
  },
  uninject: {
    summary: "take tandem's injection out of manifests",
    load: () => import('./cli/uninject.ts'),
  },
  lint: { summary: 'check policy files', load: () => import('./cli/lint.ts') },
  explain: {
    summary: 'say which policies apply to each pod and why',
    load: () => import('./cli/explain.ts'),
  },
  test: {
    summary: "run policy test cases: each input's expected injection or denial",
    load: () => import('./cli/test.ts'),
  },
  webhook: {
    summary: 'print the webhook configuration the policies need',
    load: () => import('./cli/webhook.ts'),
  },
};

/**
 * version reads tandem's version from package.json, which sits one folder above this
 * file both in a checkout (src/) and in a build beside it, so there is one place to bump.
 */
async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(new URL('../package.json', import.meta.url), 'utf8');
  const { version: value } = JSON.parse(text) as { version: string };
  return value;
}

function usage(): string {
  const lines = Object.entries(VERBS).map(([name, verb]) => `  ${name.padEnd(9)}${verb.summary}`);
  return `Usage: tandem <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nOptions:\n  --version   print tandem's version\n  -h, --help  show this help\n\nRun 'tandem <command> --help' for a command's options.\n`;
}

/** main runs the command line and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [verb, ...args] = argv;
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    process.stdout.write(usage());
    return verb === undefined ? 2 : 0;
  }
  if (verb === '--version') {
    process.stdout.write(`${await version()}\n`);
    return 0;
  }
  const entry = VERBS[verb];
  if (entry === undefined) {
    process.stderr.write(`tandem: unknown command "${verb}"\n\n${usage()}`);
    return 2;
  }
  const module = await entry.load();
  return module.run(args);
}
