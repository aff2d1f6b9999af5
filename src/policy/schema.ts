/**
 * The SidecarPolicy definition: one TypeBox schema gives both the TypeScript types and
 * the JSON Schema that ajv validates policy files with (and that editors can use, see
 * `schema/sidecarpolicy.schema.json`).
 *
 * Containers, volumes, mounts and env entries are checked only for the fields tandem
 * itself relies on and otherwise kept as the admin wrote them, so Kubernetes fields newer
 * than this schema pass through instead of being dropped.
 */
import { Type, type Static } from '@sinclair/typebox';
import { MAX_PARAM_VALUE_LENGTH } from '../limits.ts';
import { SIDECAR_MODES } from '../sidecar-mode.ts';

/** DNS_1123_LABEL is the Kubernetes rule for container, volume and policy names. */
export const DNS_1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

/** PARAM_NAME is what `{{ params.NAME }}` and `<policy>.tandem.dev/NAME` accept. */
export const PARAM_NAME = '^[A-Za-z][A-Za-z0-9_-]*$';

const Dns1123Label = Type.String({ pattern: DNS_1123_LABEL, maxLength: 63 });

/** ParamSchema declares one value a pod's author may give through an annotation. */
export const ParamSchema = Type.Object(
  {
    required: Type.Optional(Type.Boolean()),
    default: Type.Optional(Type.String()),
    pattern: Type.Optional(Type.String({ minLength: 1 })),
    // Every value is capped at MAX_PARAM_VALUE_LENGTH; a param may cap it lower. RE2
    // patterns have no lookahead to bound a length with, so this is the way to say it.
    maxLength: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PARAM_VALUE_LENGTH })),
    type: Type.Optional(Type.Union([Type.Literal('string'), Type.Literal('integer')])),
    // description and example are what a pod's author is shown when a value is refused,
    // rather than the pattern.
    description: Type.Optional(Type.String()),
    example: Type.Optional(Type.String()),
    // setBy is the most specific level that may set the param, besides the policy's
    // default: `cluster` (the admin's PolicyValues only), `namespace` (also a namespace
    // annotation) or `pod` (also the pod's own annotation, the default).
    setBy: Type.Optional(
      Type.Union([Type.Literal('cluster'), Type.Literal('namespace'), Type.Literal('pod')]),
    ),
    // requiredWhen makes the param required only while another param has one value, as a
    // `$if` compares it: log-forwarder's aggregator host is needed to forward, not to
    // print on stdout.
    requiredWhen: Type.Optional(
      Type.Object(
        { param: Type.String({ minLength: 1 }), equals: Type.String() },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** LabelSelectorSchema is metav1.LabelSelector. */
export const LabelSelectorSchema = Type.Object(
  {
    matchLabels: Type.Optional(Type.Record(Type.String(), Type.String())),
    matchExpressions: Type.Optional(
      Type.Array(
        Type.Object(
          {
            key: Type.String({ minLength: 1 }),
            operator: Type.Union([
              Type.Literal('In'),
              Type.Literal('NotIn'),
              Type.Literal('Exists'),
              Type.Literal('DoesNotExist'),
            ]),
            values: Type.Optional(Type.Array(Type.String())),
          },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);

const ContainerSchema = Type.Object(
  { name: Dns1123Label, image: Type.String({ minLength: 1 }) },
  { additionalProperties: true },
);

const VolumeSchema = Type.Object({ name: Dns1123Label }, { additionalProperties: true });

const VolumeMountSchema = Type.Object(
  { name: Dns1123Label, mountPath: Type.String({ minLength: 1 }) },
  { additionalProperties: true },
);

const EnvVarSchema = Type.Object(
  { name: Type.String({ minLength: 1 }) },
  { additionalProperties: true },
);

/** PolicySpecSchema is `spec` of a SidecarPolicy (SPEC §2). */
export const PolicySpecSchema = Type.Object(
  {
    pattern: Type.Union([
      Type.Literal('sidecar'),
      Type.Literal('ambassador'),
      Type.Literal('adapter'),
    ]),
    description: Type.Optional(Type.String()),
    selector: Type.Optional(LabelSelectorSchema),
    namespaceSelector: Type.Optional(LabelSelectorSchema),
    // true: injected into every pod of a namespace labelled `tandem.dev/injection: enabled`
    // (Istio's `istio-injection=enabled`), narrowed by `selector` when there is one.
    namespaceInjection: Type.Optional(Type.Boolean()),
    sidecarMode: Type.Optional(Type.Union(SIDECAR_MODES.map((mode) => Type.Literal(mode)))),
    // A hostNetwork pod's containers listen on the node's own interfaces, so a policy's
    // ports would clash with the node's and with every other such pod on it: a policy
    // must opt in. `unsupported` (the default) skips automatic injection and denies a
    // request.
    hostNetwork: Type.Optional(Type.Union([Type.Literal('allowed'), Type.Literal('unsupported')])),
    // additionalProperties: a Record's key pattern alone only selects which entries get
    // checked; this makes a param name that does not match it an error.
    params: Type.Optional(
      Type.Record(Type.String({ pattern: PARAM_NAME }), ParamSchema, {
        additionalProperties: false,
      }),
    ),
    containers: Type.Optional(Type.Array(ContainerSchema)),
    initContainers: Type.Optional(Type.Array(ContainerSchema)),
    volumes: Type.Optional(Type.Array(VolumeSchema)),
    appContainer: Type.Optional(
      Type.Object(
        {
          volumeMounts: Type.Optional(Type.Array(VolumeMountSchema)),
          env: Type.Optional(Type.Array(EnvVarSchema)),
        },
        { additionalProperties: false },
      ),
    ),
    podAnnotations: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);

/** SidecarPolicySchema is a whole policy document, `tandem.dev/v1alpha1`. */
export const SidecarPolicySchema = Type.Object(
  {
    apiVersion: Type.Literal('tandem.dev/v1alpha1'),
    kind: Type.Literal('SidecarPolicy'),
    metadata: Type.Object(
      {
        name: Dns1123Label,
        labels: Type.Optional(Type.Record(Type.String(), Type.String())),
        annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
      },
      { additionalProperties: false },
    ),
    spec: PolicySpecSchema,
  },
  { additionalProperties: false, $id: 'https://tandem.dev/schemas/sidecarpolicy-v1alpha1.json' },
);

/** SidecarPolicy is a policy document as validated. */
export type SidecarPolicy = Static<typeof SidecarPolicySchema>;
/** PolicySpec is the `spec` of a SidecarPolicy. */
export type PolicySpec = Static<typeof PolicySpecSchema>;
/** ParamDeclaration is one entry of `spec.params`. */
export type ParamDeclaration = Static<typeof ParamSchema>;
/** LabelSelector is metav1.LabelSelector as policies write it. */
export type LabelSelector = Static<typeof LabelSelectorSchema>;
