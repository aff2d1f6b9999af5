/** JsonValue is any value that JSON can carry: what YAML policies and pods parse to. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

/** JsonObject is a JSON object with unknown keys. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** isJsonObject tells a plain JSON object from arrays, null and scalars. */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
