#!/usr/bin/env node
// The command line's entry point. In a checkout Node 24 runs the TypeScript sources
// directly (type stripping); `npm run build` bundles this file into dist/tandem.js, the
// `tandem` an installed package runs, where Node cannot strip types under node_modules.
import { enableCompileCache } from 'node:module';

// V8's compiled code is kept on disk (in the OS temporary directory) for the next run:
// most of a short command's start-up is compiling the JavaScript it loads. It is enabled
// before anything else is imported, so it covers all of it; where the directory cannot
// be written (the image's read-only root) Node goes on without it.
enableCompileCache();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
