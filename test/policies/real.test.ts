/**
 * log-forwarder's command line, checked: Fluent Bit's flags are parsed and held against the
 * mounts the policy renders. The Redis policies are run for real in
 * real-redis-ambassador.test.ts and real-metrics-adapter.test.ts.
 */
import t from 'tap';
import { findContainer, loadBuiltinPolicy, renderPolicy } from '../fixtures/real/policies.ts';

/** FluentBitSection is one `-i`/`-F`/`-o` plugin of a Fluent Bit command line. */
interface FluentBitSection {
  readonly kind: '-i' | '-F' | '-o';
  readonly plugin: string;
  readonly props: Map<string, string>;
  match?: string;
}

/** parseFluentBitArgs reads Fluent Bit's flag grammar, failing on anything malformed. */
function parseFluentBitArgs(args: readonly string[]): {
  flush: string | undefined;
  sections: FluentBitSection[];
} {
  let flush: string | undefined;
  const sections: FluentBitSection[] = [];
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i];
    const value = args[i + 1];
    if (value === undefined) throw new Error(`flag ${flag} has no value`);
    const current = sections.at(-1);
    if (flag === '-f') flush = value;
    else if (flag === '-i' || flag === '-F' || flag === '-o')
      sections.push({ kind: flag, plugin: value, props: new Map() });
    else if (flag === '-m' && current !== undefined && current.kind !== '-i') current.match = value;
    else if (flag === '-p' && current?.kind === '-F') {
      // A filter may repeat a key (record_modifier's `record=KEY VALUE`), with spaces.
      if (!/^[a-z_.]+=\S.*$/.test(value))
        throw new Error(`-p ${JSON.stringify(value)} is not key=value`);
      current.props.set(value, value);
    } else if (flag === '-p' && current !== undefined) {
      const property = /^([a-z_.]+)=(\S+)$/.exec(value);
      if (property?.[1] === undefined || property[2] === undefined) {
        throw new Error(`-p ${JSON.stringify(value)} is not key=value`);
      }
      if (current.props.has(property[1])) throw new Error(`-p ${property[1]} given twice`);
      current.props.set(property[1], property[2]);
    } else throw new Error(`unexpected ${flag} ${value}`);
  }
  return { flush, sections };
}

for (const params of [
  { host: 'fluentd.logging.svc' },
  { host: '10.0.0.7', port: '24240', logDir: '/data/logs', files: 'app-*.json', tag: 'shop.web' },
]) {
  t.test(
    `log-forwarder: Fluent Bit's flags are well-formed and tail the mounted log directory (${JSON.stringify(params)})`,
    (t) => {
      const policy = loadBuiltinPolicy('log-forwarder.yaml');
      const rendered = renderPolicy(policy, params);
      const sidecar = findContainer(rendered, 'tandem-fluent-bit');
      t.strictSame(sidecar.command, ['/fluent-bit/bin/fluent-bit']);
      const { flush, sections } = parseFluentBitArgs(sidecar.args ?? []);
      t.match(flush, /^[1-5]$/, 'flushes within seconds, so little is buffered at SIGTERM');
      const [tail, ...rest] = sections.filter((section) => section.kind !== '-F');
      const [forward, ...others] = rest;
      t.strictSame(others, [], 'one input and one output');
      t.equal(tail?.kind, '-i');
      t.equal(tail?.plugin, 'tail');
      t.equal(forward?.kind, '-o');
      t.equal(forward?.plugin, 'forward');
      t.equal(forward?.match, '*', 'forwards every record');
      t.equal(forward?.props.get('host'), params.host);
      t.equal(forward?.props.get('port'), params.port ?? '24224');
      t.equal(tail?.props.get('tag'), params.tag ?? 'app');

      const logDir = params.logDir ?? '/var/log/app';
      const tailed = tail?.props.get('path') ?? '';
      // One directory per app container (the app's mount has subPath: its name).
      t.equal(tailed, `/var/log/tandem-app/*/${params.files ?? '*.log'}`);
      const sidecarLogs = sidecar.volumeMounts?.find((m) => tailed.startsWith(`${m.mountPath}/`));
      t.ok(sidecarLogs, 'the tailed directory is a mount of the sidecar');
      t.equal(sidecarLogs?.readOnly, true, 'which the sidecar only reads');
      const appLogs = rendered.appContainer.volumeMounts?.find((m) => m.name === sidecarLogs?.name);
      t.equal(appLogs?.mountPath, logDir, 'and the app writes into the same volume at logDir');
      t.equal(appLogs?.readOnly, undefined, 'which the app may write');

      const db = tail?.props.get('db') ?? '';
      const dbMount = sidecar.volumeMounts?.find((m) => db.startsWith(`${m.mountPath}/`));
      t.ok(dbMount, 'the offsets database is on a mounted volume');
      t.not(dbMount?.readOnly, true, 'which is writable');
      t.ok(
        rendered.volumes.some((v) => v.name === dbMount?.name && v.emptyDir !== undefined),
        'an emptyDir, so offsets survive a sidecar restart',
      );
      t.end();
    },
  );
}
