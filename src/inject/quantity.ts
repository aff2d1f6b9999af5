/**
 * Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource): `500m`, `1.5Gi`,
 * `2e3`. Parsed exactly into nano-units as a bigint, so sums and comparisons lose
 * nothing, as the API server's own arithmetic does not.
 */

const NANO = 1_000_000_000n;

// Every suffix, as a multiple of one nano-unit.
const SUFFIX_NANOS: ReadonlyMap<string, bigint> = new Map([
  ['n', 1n],
  ['u', 1_000n],
  ['m', 1_000_000n],
  ['', NANO],
  ['k', NANO * 10n ** 3n],
  ['M', NANO * 10n ** 6n],
  ['G', NANO * 10n ** 9n],
  ['T', NANO * 10n ** 12n],
  ['P', NANO * 10n ** 15n],
  ['E', NANO * 10n ** 18n],
  ['Ki', NANO * 2n ** 10n],
  ['Mi', NANO * 2n ** 20n],
  ['Gi', NANO * 2n ** 30n],
  ['Ti', NANO * 2n ** 40n],
  ['Pi', NANO * 2n ** 50n],
  ['Ei', NANO * 2n ** 60n],
]);

// Sign, digits with an optional fraction, then a suffix or a decimal exponent. Each part
// is a run of one character class after a fixed one, so a near-miss fails in one pass.
const QUANTITY = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$/;

// Far beyond any real request, and keeps a hostile value from building a huge bigint.
const MAX_DIGITS = 40;
const MAX_EXPONENT = 40;

/** scaleOf returns the suffix's multiple of a nano-unit as numerator and denominator. */
function scaleOf(suffix: string): { num: bigint; den: bigint } | undefined {
  const fixed = SUFFIX_NANOS.get(suffix);
  if (fixed !== undefined) return { num: fixed, den: 1n };
  const exponent = Number(suffix.slice(1)) + 9;
  if (Math.abs(exponent) > MAX_EXPONENT) return undefined;
  return exponent >= 0
    ? { num: 10n ** BigInt(exponent), den: 1n }
    : { num: 1n, den: 10n ** BigInt(-exponent) };
}

/** QuantityParts are a quantity's sign, digits and suffix, as written. */
interface QuantityParts {
  readonly sign: string;
  readonly whole: string;
  readonly fraction: string;
  readonly suffix: string;
}

/** quantityParts splits a quantity's text, or undefined when it is not one within bounds. */
function quantityParts(value: unknown): QuantityParts | undefined {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string') return undefined;
  const match = QUANTITY.exec(text);
  if (match === null) return undefined;
  const [, sign = '', whole = '', fraction = '', suffix = ''] = match;
  const digits = whole.length + fraction.length;
  if (digits === 0 || digits > MAX_DIGITS) return undefined;
  return { sign, whole, fraction, suffix };
}

/**
 * parseQuantity returns `value` in nano-units, rounded up as Kubernetes rounds below its
 * nano scale, or undefined when it is not a quantity.
 */
export function parseQuantity(value: unknown): bigint | undefined {
  const parts = quantityParts(value);
  if (parts === undefined) return undefined;
  const { sign, whole, fraction, suffix } = parts;
  const scale = scaleOf(suffix);
  if (scale === undefined) return undefined;
  const mantissa = BigInt(`${whole}${fraction}` || '0');
  const num = mantissa * scale.num;
  const den = scale.den * 10n ** BigInt(fraction.length);
  const rounded = num / den + (num % den === 0n ? 0n : 1n);
  return sign === '-' ? -rounded : rounded;
}

const BINARY = ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki'] as const;
const DECIMAL = ['E', 'P', 'T', 'G', 'M', 'k'] as const;
const FRACTIONAL = ['m', 'u', 'n'] as const;

/** withLargestSuffix writes `nanos` with the largest suffix of `suffixes` that divides it. */
function withLargestSuffix(nanos: bigint, suffixes: readonly string[]): string | undefined {
  for (const suffix of suffixes) {
    const unit = SUFFIX_NANOS.get(suffix) ?? NANO;
    if (nanos % unit === 0n) return `${nanos / unit}${suffix}`;
  }
  return undefined;
}

/**
 * formatQuantity writes `nanos` back as a quantity, exactly: with binary suffixes when
 * `binary` (the figure it replaces used one, as memory usually does), else decimal ones,
 * and in milli-, micro- or nano-units when it is not whole.
 */
export function formatQuantity(nanos: bigint, binary: boolean): string {
  if (nanos < 0n) return `-${formatQuantity(-nanos, binary)}`;
  if (nanos === 0n) return '0';
  if (nanos % NANO !== 0n) return withLargestSuffix(nanos, FRACTIONAL) ?? `${nanos}n`;
  return withLargestSuffix(nanos, binary ? BINARY : DECIMAL) ?? String(nanos / NANO);
}

/** usesBinarySuffix tells whether a quantity as written has a binary suffix (`Mi`, `Gi`). */
export function usesBinarySuffix(value: unknown): boolean {
  return typeof value === 'string' && /i$/.test(value);
}
