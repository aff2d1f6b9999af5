#!/usr/bin/env node
// The command line's entry point. Node 24 runs the TypeScript sources directly (type
// stripping), so there is no build step between a checkout and a running tandem.
import { main } from '../src/cli.ts';

process.exitCode = await main(process.argv.slice(2));
