import t from 'tap';
import { formatQuantity, parseQuantity } from '../../src/inject/quantity.ts';

// Values as k8s.io/apimachinery's resource.Quantity reads them, in nano-units.
const PARSED: [unknown, bigint | undefined][] = [
  ['1', 1_000_000_000n],
  ['500m', 500_000_000n],
  ['0.5', 500_000_000n],
  ['.5', 500_000_000n],
  ['1.5Gi', 1_610_612_736_000_000_000n],
  ['32Mi', 33_554_432_000_000_000n],
  ['1k', 1_000_000_000_000n],
  ['2e3', 2_000_000_000_000n],
  ['1E-3', 1_000_000n],
  ['100u', 100_000n],
  ['7n', 7n],
  ['+1', 1_000_000_000n],
  ['-1', -1_000_000_000n],
  [2, 2_000_000_000n],
  [0.25, 250_000_000n],
  // Below a nano-unit Kubernetes rounds up.
  ['1e-12', 1n],
  ['', undefined],
  ['.', undefined],
  ['1Qi', undefined],
  ['1 Mi', undefined],
  ['1e999', undefined],
  [null, undefined],
  ['9'.repeat(100_000), undefined],
];

t.test('parses quantities exactly, as the API server reads them', (t) => {
  for (const [text, nanos] of PARSED)
    t.strictSame(parseQuantity(text), nanos, String(text).slice(0, 20));
  t.end();
});

t.test('writes quantities exactly, in the suffix family of the figure they replace', (t) => {
  const cases: [bigint, boolean, string][] = [
    [0n, false, '0'],
    [550_000_000n, false, '550m'],
    [2_000_000_000n, false, '2'],
    [2_000_000_000_000n, false, '2k'],
    [parseQuantity('304Mi') ?? 0n, true, '304Mi'],
    [parseQuantity('1Gi') ?? 0n, true, '1Gi'],
    [parseQuantity('1G') ?? 0n, true, '1000000000'],
    [parseQuantity('1G') ?? 0n, false, '1G'],
    [1_500n, false, '1500n'],
    [1_000n, false, '1u'],
    [-500_000_000n, false, '-500m'],
  ];
  for (const [nanos, binary, text] of cases) {
    t.strictSame(formatQuantity(nanos, binary), text, text);
    t.strictSame(parseQuantity(text), nanos, `${text} reads back`);
  }
  t.end();
});
