/**
 * The two kinds of request tandem makes to the apiserver, a GET read whole and a GET
 * streamed (a watch), over node:https with what client-node's KubeConfig applies: the
 * cluster's CA and TLS server name, the user's client certificate or token (a token file
 * reread as the kubelet rotates it, an exec or OIDC plugin), impersonation, and its agent
 * (a proxy agent where the kubeconfig names a `proxy-url`).
 *
 * Why not client-node's API classes: `makeApiClient`, the informer and `VersionApi` pull
 * in the generated API and every model (`ObjectSerializer` refers to all of them), about
 * 80 MiB of RSS for one `/version` and one namespace watch. KubeConfig alone, built
 * without them (scripts/build.ts), costs a few MiB.
 */
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { isJsonObject } from '../json.ts';

/** ApiStatusError is an answer other than 200, with the apiserver's Status message. */
export class ApiStatusError extends Error {
  /** statusCode is the HTTP status: 410 Gone means the resourceVersion is too old. */
  readonly statusCode: number;

  constructor(statusCode: number, message: string) {
    super(message);
    this.name = 'ApiStatusError';
    this.statusCode = statusCode;
  }
}

/** ApiRequest says what to GET; `idleMs` ends a request that receives nothing for that long. */
export interface ApiRequest {
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly idleMs: number;
  readonly signal?: AbortSignal;
}

// An error answer is read for its Status message, never more than this: it is for a log line.
const ERROR_BODY_LIMIT = 64 * 1024;

/** apiUrl is the cluster's server URL with `path` appended, as client-node builds it (a server may have a path). */
function apiUrl(kubeConfig: KubeConfig, request: ApiRequest): URL {
  const server = kubeConfig.getCurrentCluster()?.server;
  if (server === undefined || server === '') throw new Error('the kubeconfig names no cluster');
  const url = new URL(server + request.path);
  for (const [key, value] of Object.entries(request.query ?? {})) url.searchParams.set(key, value);
  return url;
}

/** readText reads a response whole, as UTF-8, up to `limit` characters. */
async function readText(response: IncomingMessage, limit = Infinity): Promise<string> {
  response.setEncoding('utf8');
  let text = '';
  for await (const chunk of response as AsyncIterable<string>) {
    text += chunk;
    if (text.length > limit) {
      response.destroy();
      break;
    }
  }
  return text;
}

/** statusError builds the error for an answer other than 200 from its Status body, if any. */
async function statusError(response: IncomingMessage, url: URL): Promise<ApiStatusError> {
  const status = response.statusCode ?? 0;
  let message = `GET ${url.pathname} answered ${status}`;
  try {
    const body: unknown = JSON.parse(await readText(response, ERROR_BODY_LIMIT));
    if (isJsonObject(body) && typeof body['message'] === 'string') {
      message += `: ${body['message']}`;
    }
  } catch {
    // Not a Status (a proxy's HTML page, a cut body): the status code says enough.
  }
  return new ApiStatusError(status, message);
}

/**
 * openApiRequest sends a GET and resolves with the response once it is answered 200; any
 * other answer rejects with an ApiStatusError. The caller reads (or destroys) the body.
 */
export async function openApiRequest(
  kubeConfig: KubeConfig,
  request: ApiRequest,
): Promise<IncomingMessage> {
  const url = apiUrl(kubeConfig, request);
  const options: RequestOptions = { method: 'GET', headers: { accept: 'application/json' } };
  // Credentials are applied per request: a token file or an exec plugin's token expires.
  await kubeConfig.applyToHTTPSOptions(options);
  if (request.signal !== undefined) options.signal = request.signal;
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    let answer: IncomingMessage | undefined;
    const outgoing = send(url, options, (incoming) => {
      answer = incoming;
      resolve(incoming);
    });
    outgoing.on('error', reject);
    // Idle, not total: a watch lasts minutes, but a healthy apiserver is never silent that long.
    outgoing.setTimeout(request.idleMs, () => {
      const silent = new Error(`GET ${url.pathname}: nothing received for ${request.idleMs} ms`);
      // The body's reader, if answered, sees this error rather than a bare reset.
      answer?.destroy(silent);
      outgoing.destroy(silent);
    });
    outgoing.end();
  });
  if (response.statusCode !== 200) throw await statusError(response, url);
  return response;
}

/** getJson sends a GET and parses its answer. */
export async function getJson(kubeConfig: KubeConfig, request: ApiRequest): Promise<unknown> {
  const response = await openApiRequest(kubeConfig, request);
  return JSON.parse(await readText(response));
}
