/**
 * The benchmark's request bodies: AdmissionReview v1 pod CREATEs shaped the way the
 * kube-apiserver sends them for a pod a ReplicaSet creates. By then the built-in
 * admission plugins have run, so the pod carries every defaulted field
 * (terminationMessagePath, imagePullPolicy, dnsPolicy, schedulerName, tolerations, ...)
 * and the projected service-account token volume (ServiceAccount admission). Nothing is
 * read from disk: each function builds a fresh value, so the bench and its test see the
 * same bodies.
 */
import type { JsonObject } from '../src/json.ts';

/** BodySize is one of the three pod sizes the issue asks for. */
export type BodySize = 'small' | 'medium' | 'large';

/** PolicyRequest is what a body asks for: one built-in policy, or all three. */
export type PolicyRequest = 'redis-ambassador' | 'log-forwarder' | 'metrics-adapter' | 'all-three';

/** BenchBody is one request body and what it asks for. */
export interface BenchBody {
  /** name is `<size>/<request>`, as the table shows it. */
  readonly name: string;
  readonly size: BodySize | 'many-containers';
  readonly request: PolicyRequest;
  readonly review: JsonObject;
}

const NAMESPACE = 'shop';
const REPLICA_SET = 'cart-7c9d8f6b5';

// Each size asks for a different single policy, so the three built-ins are all on the
// measured path; the all-three set then runs every size through all of them at once.
const SINGLE_POLICY: Readonly<Record<BodySize, PolicyRequest>> = {
  small: 'redis-ambassador',
  medium: 'log-forwarder',
  large: 'metrics-adapter',
};

/** policyAnnotations is what a pod's author writes to ask for `request`. */
export function policyAnnotations(request: PolicyRequest): Record<string, string> {
  const ambassador = {
    'redis-ambassador.tandem.dev/upstreams': 'redis-0.cache:6379,redis-1.cache:6379',
  };
  const forwarder = { 'log-forwarder.tandem.dev/host': 'fluentd.logging.svc' };
  switch (request) {
    case 'redis-ambassador':
      return { 'tandem.dev/inject': request, ...ambassador };
    case 'log-forwarder':
      return { 'tandem.dev/inject': request, ...forwarder };
    case 'metrics-adapter':
      return { 'tandem.dev/inject': request };
    case 'all-three':
      return {
        'tandem.dev/inject': 'log-forwarder,redis-ambassador,metrics-adapter',
        ...ambassador,
        ...forwarder,
      };
  }
}

/** serviceAccountVolume is what the ServiceAccount admission plugin adds to every pod. */
function serviceAccountVolume(): JsonObject {
  return {
    name: 'kube-api-access-7xq2m',
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        {
          configMap: {
            name: 'kube-root-ca.crt',
            items: [{ key: 'ca.crt', path: 'ca.crt' }],
          },
        },
        {
          downwardAPI: {
            items: [
              {
                path: 'namespace',
                fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' },
              },
            ],
          },
        },
      ],
    },
  };
}

const SERVICE_ACCOUNT_MOUNT: JsonObject = {
  name: 'kube-api-access-7xq2m',
  readOnly: true,
  mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
};

/** ContainerShape says how much a container carries. */
interface ContainerShape {
  readonly name: string;
  readonly image: string;
  readonly port: number;
  /** envCount plain env vars besides the downward-API ones; undefined for no env at all. */
  readonly envCount: number | undefined;
  readonly probes: boolean;
  readonly mounts: readonly JsonObject[];
}

function envVars(prefix: string, count: number): JsonObject[] {
  const vars: JsonObject[] = [
    { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
    { name: 'POD_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } },
  ];
  for (let i = 0; i < count; i += 1) {
    vars.push({
      name: `${prefix}_SETTING_${String(i).padStart(3, '0')}`,
      value: `value-${i}-of-the-${prefix.toLowerCase()}-configuration`,
    });
  }
  return vars;
}

function httpProbe(path: string, port: number, periodSeconds: number): JsonObject {
  return {
    httpGet: { path, port, scheme: 'HTTP' },
    initialDelaySeconds: 5,
    timeoutSeconds: 1,
    periodSeconds,
    successThreshold: 1,
    failureThreshold: 3,
  };
}

/** container is one app container with every field the apiserver defaults filled in. */
function container(shape: ContainerShape): JsonObject {
  const result: JsonObject = {
    name: shape.name,
    image: shape.image,
    ports: [{ name: 'http', containerPort: shape.port, protocol: 'TCP' }],
    resources: {
      limits: { cpu: '500m', memory: '256Mi' },
      requests: { cpu: '100m', memory: '128Mi' },
    },
    volumeMounts: [...shape.mounts, SERVICE_ACCOUNT_MOUNT],
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
  };
  if (shape.envCount !== undefined) {
    result['env'] = envVars(shape.name.toUpperCase().replace(/-/g, '_'), shape.envCount);
  }
  if (shape.probes) {
    result['livenessProbe'] = httpProbe('/healthz', shape.port, 10);
    result['readinessProbe'] = httpProbe('/readyz', shape.port, 5);
    result['startupProbe'] = httpProbe('/healthz', shape.port, 2);
  }
  return result;
}

/** PodShape says how big the pod is. */
interface PodShape {
  readonly containers: readonly JsonObject[];
  readonly volumes: readonly JsonObject[];
  readonly annotations: Record<string, string>;
}

/** extraAnnotations are the kind a CI pipeline and a few operators leave on a pod. */
function extraAnnotations(count: number): Record<string, string> {
  const annotations: Record<string, string> = {};
  for (let i = 0; i < count; i += 1) {
    const key = `ci.example.com/build-${String(i).padStart(3, '0')}`;
    annotations[key] = `pipeline=cart;stage=${i};commit=4f9c2e1b7a${String(i).padStart(6, '0')}`;
  }
  return annotations;
}

/** pod is a ReplicaSet-made pod: generateName, no name, an owner reference. */
function pod(shape: PodShape): JsonObject {
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      generateName: `${REPLICA_SET}-`,
      namespace: NAMESPACE,
      labels: {
        app: 'cart',
        'app.kubernetes.io/name': 'cart',
        'app.kubernetes.io/part-of': 'shop',
        'app.kubernetes.io/version': '1.4.2',
        'pod-template-hash': '7c9d8f6b5',
      },
      annotations: shape.annotations,
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: REPLICA_SET,
          uid: '0c6f7a8e-31d5-4b8e-9a7e-2f5b0d4c9e11',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      volumes: [...shape.volumes, serviceAccountVolume()],
      containers: [...shape.containers],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'cart',
      serviceAccount: 'cart',
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      schedulerName: 'default-scheduler',
      tolerations: [
        {
          key: 'node.kubernetes.io/not-ready',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
        {
          key: 'node.kubernetes.io/unreachable',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    status: {},
  };
}

/** review wraps a pod in the AdmissionReview the apiserver sends for its CREATE. */
export function review(object: JsonObject): JsonObject {
  const gvk = { group: '', version: 'v1', kind: 'Pod' };
  const gvr = { group: '', version: 'v1', resource: 'pods' };
  // Field order as the apiserver writes it (Go's TypeMeta: kind, then apiVersion).
  return {
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: gvk,
      resource: gvr,
      requestKind: gvk,
      requestResource: gvr,
      // Empty: the pod has only a generateName until the apiserver names it after admission.
      name: '',
      namespace: NAMESPACE,
      operation: 'CREATE',
      userInfo: {
        username: 'system:serviceaccount:kube-system:replicaset-controller',
        uid: '2d2f1a4c-6f1e-4b7c-9d4a-1f0e6c3b5a77',
        groups: [
          'system:serviceaccounts',
          'system:serviceaccounts:kube-system',
          'system:authenticated',
        ],
      },
      object,
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  };
}

const CART = { name: 'cart', image: 'registry.example.com/shop/cart:1.4.2', port: 8080 };

function smallPod(request: PolicyRequest): JsonObject {
  return pod({
    containers: [container({ ...CART, envCount: undefined, probes: false, mounts: [] })],
    volumes: [],
    annotations: policyAnnotations(request),
  });
}

/** The volumes a typical Deployment pod mounts: config, a secret, scratch space. */
function typicalVolumes(): JsonObject[] {
  return [
    { name: 'config', configMap: { name: 'cart-config', defaultMode: 420 } },
    { name: 'tls', secret: { secretName: 'cart-tls', defaultMode: 420 } },
    { name: 'tmp', emptyDir: {} },
  ];
}

function typicalContainers(envCount: number): JsonObject[] {
  const mounts = [
    { name: 'config', mountPath: '/etc/cart', readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
  ];
  return [
    container({ ...CART, envCount, probes: true, mounts: [...mounts, tlsMount()] }),
    container({
      name: 'cart-worker',
      image: 'registry.example.com/shop/cart-worker:1.4.2',
      port: 8081,
      envCount,
      probes: true,
      mounts,
    }),
    container({
      name: 'oauth-proxy',
      image: 'quay.io/oauth2-proxy/oauth2-proxy:v7.6.0',
      port: 4180,
      envCount: Math.ceil(envCount / 2),
      probes: true,
      mounts: [tlsMount()],
    }),
  ];
}

function tlsMount(): JsonObject {
  return { name: 'tls', mountPath: '/etc/tls', readOnly: true };
}

function mediumPod(request: PolicyRequest): JsonObject {
  return pod({
    containers: typicalContainers(14),
    volumes: typicalVolumes(),
    annotations: { ...policyAnnotations(request), ...extraAnnotations(4) },
  });
}

function largePod(request: PolicyRequest): JsonObject {
  return pod({
    containers: typicalContainers(200),
    volumes: typicalVolumes(),
    annotations: { ...policyAnnotations(request), ...extraAnnotations(150) },
  });
}

const BUILDERS: Readonly<Record<BodySize, (request: PolicyRequest) => JsonObject>> = {
  small: smallPod,
  medium: mediumPod,
  large: largePod,
};

/** BODY_SIZES lists the sizes, smallest first. */
export const BODY_SIZES: readonly BodySize[] = ['small', 'medium', 'large'];

/** sizedBody builds the body of `size` that asks for `request`. */
export function sizedBody(size: BodySize, request: PolicyRequest): BenchBody {
  return { name: `${size}/${request}`, size, request, review: review(BUILDERS[size](request)) };
}

/**
 * benchBodies is the main set: each size with its single policy, then each size with
 * all three.
 */
export function benchBodies(): BenchBody[] {
  return [
    ...BODY_SIZES.map((size) => sizedBody(size, SINGLE_POLICY[size])),
    ...BODY_SIZES.map((size) => sizedBody(size, 'all-three')),
  ];
}

/** MANY_CONTAINERS is the container count of the scale check's pod. */
export const MANY_CONTAINERS = 50;

/**
 * manyContainersBody is the small pod's container fifty times over, asking for the same
 * policy as the small pod: the ambassador's env goes into every one of them, so the patch
 * grows with the pod and the difference to the small pod is the per-container cost.
 */
export function manyContainersBody(): BenchBody {
  const containers: JsonObject[] = [];
  for (let i = 0; i < MANY_CONTAINERS; i += 1) {
    containers.push(
      container({ ...CART, name: `cart-${i}`, envCount: undefined, probes: false, mounts: [] }),
    );
  }
  const request = SINGLE_POLICY.small;
  const object = pod({ containers, volumes: [], annotations: policyAnnotations(request) });
  return {
    name: `${MANY_CONTAINERS}-containers/${request}`,
    size: 'many-containers',
    request,
    review: review(object),
  };
}

/** singlePolicyBody is the body of `size` that asks for that size's single policy. */
export function singlePolicyBody(size: BodySize): BenchBody {
  return sizedBody(size, SINGLE_POLICY[size]);
}

/**
 * SERIAL_MARKER in a body is replaced by a new value for every request (load.ts), so that
 * each one is a different pod; it is autocannon's id placeholder.
 */
export const SERIAL_MARKER = '[<id>]';

/**
 * distinctReviews makes a body's text into one whose every request is a different pod:
 * the load replaces SERIAL_MARKER in the generateName with a new value each
 * time. The pods of one ReplicaSet reach tandem as the same review but for its uid, and
 * tandem answers those from its answer cache; distinct pods are the other case, a
 * ReplicaSet's first pod or pods the apiserver writes differently, which the engine
 * answers.
 */
export function distinctReviews(text: string): string {
  const at = text.indexOf(`"generateName":"${REPLICA_SET}-"`);
  if (at < 0) throw new Error('the body has no generateName to vary');
  const value = at + '"generateName":"'.length;
  return `${text.slice(0, value)}${SERIAL_MARKER}-${text.slice(value)}`;
}
