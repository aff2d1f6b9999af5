import t from 'tap';
import { runTandem } from '../fixtures/tandem-cli.ts';

// Starts the real CLI.
t.setTimeout(300_000);

const TWO_PODS = `apiVersion: v1
kind: Pod
metadata:
  name: cart
  annotations:
    tandem.dev/inject: redis-ambassador, log-forwarder
    redis-ambassador.tandem.dev/upstreams: redis-0.cache:6379
    redis-ambassador.tandem.dev/listenPort: six
    log-forwarder.tandem.dev/host: fluentd.logging.svc.cluster.local
    log-forwarder.tandem.dev/port: x
spec:
  containers: [{name: app, image: nginx}]
---
apiVersion: v1
kind: Pod
metadata:
  name: other
  annotations:
    tandem.dev/inject: nope, redis-ambassador, nada
spec:
  containers: [{name: app, image: nginx}]
`;

t.test(
  'tandem inject reports every bad param and every unknown policy, each pod named by document',
  (t) => {
    const { code, stdout, stderr } = runTandem(['inject', '-f', '-'], TWO_PODS);
    t.strictSame({ code, stdout }, { code: 1, stdout: '' });
    const lines = stderr.split('\n').filter((line) => line.startsWith('tandem inject: '));
    t.equal(lines.length, 2, stderr);
    t.match(
      lines[0],
      /^tandem inject: -: document 1 \(Pod\/cart\): denied: 2 problems: \(1\) annotation redis-ambassador\.tandem\.dev\/listenPort has value "six", .*; \(2\) annotation log-forwarder\.tandem\.dev\/port has value "x", /,
    );
    t.strictSame(
      lines[1],
      'tandem inject: -: document 2 (Pod/other): denied: 2 problems: (1) tandem.dev/inject requests policy "nope", which does not exist; (2) tandem.dev/inject requests policy "nada", which does not exist',
    );
    t.end();
  },
);

t.test('tandem explain marks each unknown policy, and exits 1', (t) => {
  const { code, stdout } = runTandem(['explain', '-f', '-'], TWO_PODS);
  t.equal(code, 1);
  t.match(stdout, /! nope: deny \(no such policy\)\n.*! nada: deny \(no such policy\)/s);
  t.end();
});
