/**
 * readWebhookFile reads the webhook configuration a cluster runs, as
 * `kubectl get mutatingwebhookconfiguration tandem -o yaml` prints it (a List of them
 * too), or as deploy/ or `helm template` render it: every MutatingWebhookConfiguration
 * in the file, and of each, what decides which pods its webhooks are sent.
 */
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { TandemError } from '../errors.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import type { LabelSelector } from '../policy/schema.ts';
import type { WebhookView } from './evaluate.ts';

function configurations(value: JsonValue | undefined): JsonObject[] {
  if (!isJsonObject(value)) return [];
  if (value['kind'] === 'MutatingWebhookConfiguration') return [value];
  const items = value['items'];
  return Array.isArray(items) ? items.flatMap((item) => configurations(item)) : [];
}

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

function selector(value: JsonValue | undefined, source: string): LabelSelector | undefined {
  // An absent selector matches everything, as the API server defaults it.
  if (!isJsonObject(value)) return undefined;
  const expressions = Array.isArray(value['matchExpressions']) ? value['matchExpressions'] : [];
  for (const expression of expressions) {
    const operator = isJsonObject(expression) ? expression['operator'] : undefined;
    if (typeof operator !== 'string' || !OPERATORS.has(operator)) {
      throw new TandemError(
        'TANDEM_ERR_CONFIG',
        `${source}: a selector requirement has operator ${JSON.stringify(operator ?? null)}, not one of In, NotIn, Exists, DoesNotExist`,
      );
    }
  }
  // Checked above for what matching reads: the operators; keys and values are strings.
  return value;
}

function webhookView(value: JsonValue, source: string): WebhookView | undefined {
  if (!isJsonObject(value) || typeof value['name'] !== 'string') return undefined;
  const conditions = Array.isArray(value['matchConditions']) ? value['matchConditions'] : [];
  return {
    name: value['name'],
    namespaceSelector: selector(value['namespaceSelector'], source),
    objectSelector: selector(value['objectSelector'], source),
    matchConditions: conditions.filter(isJsonObject).map((c) => ({
      name: typeof c['name'] === 'string' ? c['name'] : '',
      // A condition without an expression fails to evaluate, as the API server refuses it.
      expression: typeof c['expression'] === 'string' ? c['expression'] : '',
    })),
  };
}

/** parseWebhooks returns the webhooks of every configuration in `text`, read from `source`. */
export function parseWebhooks(text: string, source: string): WebhookView[] {
  const found = parseAllDocuments(text).flatMap((document) =>
    configurations(document.toJS() as JsonValue),
  );
  if (found.length === 0) {
    throw new TandemError(
      'TANDEM_ERR_CONFIG',
      `${source} holds no MutatingWebhookConfiguration (try kubectl get mutatingwebhookconfiguration tandem -o yaml)`,
    );
  }
  return found.flatMap((configuration) => {
    const webhooks = Array.isArray(configuration['webhooks']) ? configuration['webhooks'] : [];
    return webhooks.flatMap((webhook) => webhookView(webhook, source) ?? []);
  });
}

/** readWebhookFile returns the webhooks of every configuration in the file at `path`. */
export async function readWebhookFile(path: string): Promise<WebhookView[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new TandemError('TANDEM_ERR_CONFIG', `cannot read ${path}`, { cause: error });
  }
  return parseWebhooks(text, path);
}
