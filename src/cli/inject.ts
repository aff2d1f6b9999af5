/** STUB: `tandem inject` is being written. */
export function run(_args: string[]): Promise<number> {
  process.stderr.write('tandem inject: not implemented yet\n');
  return Promise.resolve(2);
}
