/**
 * quoteValue shows text that came from the pod in an answer: quoted as JSON, and cut to
 * its first 100 characters with an ellipsis and its length. An annotation value can be
 * tens of kilobytes, and a denial or warning that echoes it whole floods `kubectl`'s
 * output and the API server's events while saying nothing more.
 */
const SHOWN = 100;

/** quoteValue returns `text` JSON-quoted, cut to 100 characters when longer. */
export function quoteValue(text: string): string {
  if (text.length <= SHOWN) return JSON.stringify(text);
  // Do not split a surrogate pair: half of one would print as a replacement character.
  const code = text.charCodeAt(SHOWN - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? SHOWN - 1 : SHOWN;
  return `${JSON.stringify(text.slice(0, end))}… (${text.length} characters)`;
}
