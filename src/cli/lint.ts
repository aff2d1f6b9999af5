/** STUB: `tandem lint` is being written. */
export function run(_args: string[]): Promise<number> {
  process.stderr.write('tandem lint: not implemented yet\n');
  return Promise.resolve(2);
}
