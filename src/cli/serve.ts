/** STUB: `tandem serve` is being written. */
export function run(_args: string[]): Promise<number> {
  process.stderr.write('tandem serve: not implemented yet\n');
  return Promise.resolve(2);
}
