import t from 'tap';
import { TandemError } from '../src/errors.ts';
import {
  ASSUMED_SUPPORT,
  SERVE_SIDECAR_MODES,
  SIDECAR_MODES,
  decideSidecars,
  effectiveSidecarMode,
  parseSidecarModeSetting,
} from '../src/sidecar-mode.ts';

const OLD_CLUSTER = { supported: false, cluster: 'version v1.28.0' };

t.test('auto becomes native where the cluster runs native sidecars, classic where not', (t) => {
  t.strictSame(decideSidecars('auto', ASSUMED_SUPPORT), {
    sidecarMode: 'native',
    nativeSidecarsSupported: true,
    warning: undefined,
  });
  t.strictSame(decideSidecars('auto', OLD_CLUSTER), {
    sidecarMode: 'classic',
    nativeSidecarsSupported: false,
    warning:
      'the cluster runs version v1.28.0; native sidecars need 1.29 or later, so sidecars are injected as classic containers',
  });
  t.end();
});

t.test('the offline verbs take native or classic; serve also takes auto', (t) => {
  t.equal(parseSidecarModeSetting('classic', SIDECAR_MODES), 'classic');
  t.equal(parseSidecarModeSetting('auto', SERVE_SIDECAR_MODES), 'auto');
  t.throws(() => parseSidecarModeSetting('auto', SIDECAR_MODES), {
    code: 'TANDEM_ERR_CONFIG',
    message: '--sidecar-mode must be native or classic, not "auto"',
  });
  const error = t.throws(() => parseSidecarModeSetting('Native', SERVE_SIDECAR_MODES));
  t.ok(error instanceof TandemError);
  t.equal(
    error instanceof Error ? error.message : '',
    '--sidecar-mode must be native, classic or auto, not "Native"',
  );
  t.end();
});

t.test(
  "a policy's sidecarMode overrides the default, but never brings native to a cluster without it",
  (t) => {
    const native = decideSidecars('native', ASSUMED_SUPPORT);
    const classic = decideSidecars('classic', ASSUMED_SUPPORT);
    t.equal(effectiveSidecarMode(undefined, native), 'native');
    t.equal(effectiveSidecarMode('classic', native), 'classic');
    t.equal(effectiveSidecarMode('native', classic), 'native');
    t.equal(effectiveSidecarMode('native', decideSidecars('native', OLD_CLUSTER)), 'classic');
    t.end();
  },
);
