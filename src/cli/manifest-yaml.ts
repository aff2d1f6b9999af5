/**
 * YAML as kubectl reads it. kubectl (sigs.k8s.io/yaml) reads manifests with go-yaml v2's
 * YAML 1.1 rules: `no`, `on` and `y` are booleans, `0755` is octal, `<<` merges maps,
 * `2001-12-14` and `1:20` stay strings. `tandem inject` reads manifests under the same
 * rules and writes them so that kubectl reads back exactly what tandem meant:
 *
 * - parsed as YAML 1.1 (the `yaml` package's `yaml-1.1` schema, merge keys on), without
 *   its sexagesimal and timestamp types, which go-yaml v2 leaves as strings;
 * - duplicate keys accepted, the last one winning, as kubectl does;
 * - a plain number, boolean or null is written back as its source text (`0755`, `1_000`,
 *   `12345678901234567890`), so no value is reformatted or rounded on the way through;
 * - a string is quoted whenever go-yaml v2 could read it as something else, and control
 *   characters, DEL, C1 and the Unicode line separators are written as escapes.
 */
import { Scalar, type DocumentOptions, type ParseOptions } from 'yaml';
import type { SchemaOptions, ScalarTag, Tags } from 'yaml';
import { stringifyString, type StringifyContext } from 'yaml/util';

type Stringify = NonNullable<ScalarTag['stringify']>;

const STR = 'tag:yaml.org,2002:str';
const TIMESTAMP = 'tag:yaml.org,2002:timestamp';
const FLOAT = 'tag:yaml.org,2002:float';

// go-yaml v2's resolve table (goyaml.v2/resolve.go): plain words it reads as booleans,
// nulls, infinities, NaN or a merge.
const GO_YAML_V2_WORDS: ReadonlySet<string> = new Set(
  [
    'y Y yes Yes YES true True TRUE on On ON',
    'n N no No NO false False FALSE off Off OFF',
    '~ null Null NULL .nan .NaN .NAN <<',
    '.inf .Inf .INF +.inf +.Inf +.INF -.inf -.Inf -.INF',
  ].flatMap((words) => words.split(' ')),
);

// What go-yaml v2 tries on a plain scalar that starts with a digit or a sign, after
// removing every `_`: Go's ParseInt and ParseUint with base 0 (decimal, `0x`, `0o`,
// `0b`, leading-zero octal; numbers too big for 64 bits become big integers), then a
// float of its own pattern. A string starting with a dot is tried as a float.
const GO_INTEGER = /^[-+]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[0-9]+)$/;
const GO_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
// Timestamps (YYYY-M-D...) come back from kubectl as the same text, but quoting costs
// nothing, so anything that starts like one is quoted.
const GO_TIMESTAMP_START = /^[0-9]{4}-/;

/** readsAsStringInGoYamlV2 tells whether go-yaml v2 reads `plain`, unquoted, as a string. */
function readsAsStringInGoYamlV2(plain: string): boolean {
  if (plain === '' || GO_YAML_V2_WORDS.has(plain)) return false;
  if (plain.startsWith('.')) return !/^\.[0-9]/.test(plain);
  if (!/^[-+0-9]/.test(plain)) return true;
  const digits = plain.replace(/_/g, '');
  return !GO_INTEGER.test(digits) && !GO_FLOAT.test(digits) && !GO_TIMESTAMP_START.test(plain);
}

// Characters YAML 1.1 does not allow raw (C0 but tab and newlines, DEL, C1, the
// non-characters), the ones it reads as line breaks (NEL, LS, PS), the byte order mark
// and lone surrogates.
const NEEDS_ESCAPE = /(?![\t\n\r])[\p{Cc}\p{Cs}\u2028\u2029\ufeff\ufffe\uffff]/u;
const NOT_ESCAPED_BY_JSON = /[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/g;
// libyaml, under go-yaml v2, takes a tab at the start of a block scalar's line for
// indentation and refuses it ("found a tab character where an indentation space is
// expected").
const LINE_START_TAB = /(?:^|\n)\t/;

/** escapedString writes `value` double-quoted, every character YAML 1.1 would not keep escaped. */
function escapedString(value: string): string {
  // JSON escapes C0, quotes and lone surrogates in a form YAML 1.1 reads the same way.
  return JSON.stringify(value).replace(
    NOT_ESCAPED_BY_JSON,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * sourceText is a scalar's text exactly as written, when it was plain and on one line
 * and can stand where it is printed: the one form kubectl is sure to read as before.
 */
function sourceText(item: Scalar, ctx: StringifyContext): string | undefined {
  const token = item.srcToken;
  if (token?.type !== 'scalar') return undefined;
  const { source } = token;
  if (source === '' || source.includes('\n')) return undefined;
  // A plain scalar from block context may hold what a flow collection would split on.
  if (ctx.inFlow === true && /[,[\]{}]/.test(source)) return undefined;
  return source;
}

const stringifyManifestString: Stringify = (item, ctx, onComment, onChompKeep) => {
  const verbatim = sourceText(item, ctx);
  if (verbatim !== undefined) return verbatim;
  const value = String(item.value);
  if (NEEDS_ESCAPE.test(value) || (value.includes('\n') && LINE_START_TAB.test(value))) {
    return escapedString(value);
  }
  const plain = item.type === undefined || item.type === Scalar.PLAIN;
  if (plain && !readsAsStringInGoYamlV2(value)) {
    const quoted = Object.assign({}, item, { type: Scalar.QUOTE_DOUBLE });
    return stringifyString(quoted, ctx, onComment, onChompKeep);
  }
  return stringifyString(item, ctx, onComment, onChompKeep);
};

/** keepSourceText makes a scalar tag write parsed scalars as their source text. */
function keepSourceText(tag: ScalarTag): ScalarTag {
  const own = tag.stringify;
  if (own === undefined) return tag;
  return {
    ...tag,
    stringify: (item, ctx, onComment, onChompKeep) =>
      sourceText(item, ctx) ?? own(item, ctx, onComment, onChompKeep),
  };
}

// What go-yaml v2 reads as a float (resolve.go): a scalar starting with a dot goes to
// Go's ParseFloat as written (`.5`, `.5e3`); one starting with a sign or a digit has its
// `_` removed and must then match yamlStyleFloat. The `yaml-1.1` schema also reads `.`,
// `+.` or `._5` as floats, so a key `.` (in every managedFields kubectl prints) came out
// NaN; each float tag is narrowed to this, and what go-yaml v2 reads as a string stays one.
const DIGITS = '(?:[0-9]_*)+';
const FROM_DOT = '\\.[0-9]+(?:[eE][-+]?[0-9]+)?';
const FROM_SIGN_OR_DIGIT = `(?=[-+0-9])[-+]?_*(?:\\._*${DIGITS}|${DIGITS}(?:\\._*(?:[0-9]_*)*)?)(?:[eE]_*[-+]?_*${DIGITS})?`;
const GO_YAML_V2_FLOAT = new RegExp(`^(?:${FROM_DOT}|${FROM_SIGN_OR_DIGIT})$`);

/** asGoYamlV2Float narrows a float tag of the `yaml-1.1` schema to what go-yaml v2 reads as a float. */
function asGoYamlV2Float(tag: ScalarTag): ScalarTag {
  if (tag.tag !== FLOAT || tag.test === undefined || tag.test.source.includes('nan')) return tag;
  return { ...tag, test: GO_YAML_V2_FLOAT };
}

/** manifestTags adapts the `yaml-1.1` schema's tags to go-yaml v2, as described above. */
function manifestTags(tags: Tags): Tags {
  return tags
    .filter((tag) => typeof tag === 'string' || (tag.tag !== TIMESTAMP && tag.format !== 'TIME'))
    .map((tag) => {
      if (typeof tag === 'string' || ('collection' in tag && tag.collection !== undefined)) {
        return tag;
      }
      if (tag.tag === STR) return { ...tag, stringify: stringifyManifestString };
      return keepSourceText(asGoYamlV2Float(tag));
    });
}

/** MANIFEST_YAML_OPTIONS parse manifests as kubectl reads them, and write them so it reads them back. */
export const MANIFEST_YAML_OPTIONS = {
  version: '1.1',
  merge: true,
  uniqueKeys: false,
  keepSourceTokens: true,
  customTags: manifestTags,
  prettyErrors: true,
} satisfies ParseOptions & DocumentOptions & SchemaOptions;
