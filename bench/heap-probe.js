/**
 * Preloaded (`--import`) into the memory run's tandem, with `--expose-gc`: on SIGUSR2 it
 * runs a full GC and writes the heap in use to stderr as one JSON line. RSS alone cannot
 * tell a leak from V8 keeping freed pages, so the bench reads the live heap too; the probe
 * adds nothing to the request path. Each line carries the probe's count, so the bench
 * tells this probe's line from an earlier one among the log lines around it.
 *
 * JavaScript, not TypeScript: a preloaded .ts file makes Node load its type stripper,
 * about 16 MiB of RSS that the image's tandem (the build, all JavaScript) never carries.
 */
const gc = /** @type {{ gc?: () => void }} */ (globalThis).gc;
let probes = 0;

process.on('SIGUSR2', () => {
  gc?.();
  probes += 1;
  const { heapUsed } = process.memoryUsage();
  process.stderr.write(
    `${JSON.stringify({ heapProbe: { probe: probes, heapUsed, collected: gc !== undefined } })}\n`,
  );
});
