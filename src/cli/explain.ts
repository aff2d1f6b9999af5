/** STUB: `tandem explain` is being written. */
export function run(_args: string[]): Promise<number> {
  process.stderr.write('tandem explain: not implemented yet\n');
  return Promise.resolve(2);
}
