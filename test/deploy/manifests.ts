/**
 * Rendered manifests, parsed and checked against schemas: kubernetes-models for the
 * Kubernetes kinds, @kubernetes-models/cert-manager for cert-manager's and
 * @kubernetes-models/prometheus-operator for the Prometheus Operator's (its CRDs of
 * v0.65; they check types and enums, not unknown fields, so the chart test also asserts
 * the monitors' shape by hand). A kind with no schema here is listed, so that nothing
 * slips through unchecked.
 */
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1ConfigMap,
  V1Deployment,
  V1MutatingWebhookConfiguration,
  V1Namespace,
  V1Service,
} from '@kubernetes/client-node';
import { Certificate, Issuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1';
import {
  PodMonitor,
  PrometheusRule,
  ServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ClusterRole, ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';

interface Validatable {
  validate(): void;
}

type ModelClass = new (data: never) => Validatable;

const MODELS: Readonly<Record<string, ModelClass>> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration': MutatingWebhookConfiguration,
  'cert-manager.io/v1/Issuer': Issuer,
  'cert-manager.io/v1/Certificate': Certificate,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

/** RenderedObject is the part of any rendered object that names it. */
export interface RenderedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
}

/** CertificateObject is the part of a cert-manager Certificate the tests read. */
export interface CertificateObject {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly spec?: { readonly secretName?: string; readonly dnsNames?: string[] };
}

/** Manifests is a rendered install: each object once, by role, and what checking found. */
export interface Manifests {
  /** kinds lists `Kind/name`, without the generated ConfigMap's hash suffix. */
  readonly kinds: string[];
  readonly unknownKinds: string[];
  readonly validations: { readonly id: string; readonly error: string | undefined }[];
  readonly namespace: V1Namespace;
  readonly deployment: V1Deployment;
  readonly service: V1Service;
  readonly webhook: V1MutatingWebhookConfiguration;
  readonly policies: V1ConfigMap;
  readonly clusterRole: V1ClusterRole;
  readonly binding: V1ClusterRoleBinding;
  readonly certificates: CertificateObject[];
}

function one<T>(objects: RenderedObject[], kind: string): T {
  const found = objects.filter((o) => o.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, rendered ${found.length}`);
  return found[0] as T;
}

function validate(object: RenderedObject): string | undefined {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (Model === undefined) return undefined;
  try {
    new Model(object as never).validate();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** parseObjects parses a YAML stream of objects, skipping empty documents. */
export function parseObjects(yaml: string): RenderedObject[] {
  return parseAllDocuments(yaml)
    .map((doc) => doc.toJS() as RenderedObject | null)
    .filter((o): o is RenderedObject => o !== null);
}

/** objectId is `Kind/name`. */
export function objectId(o: RenderedObject): string {
  return `${o.kind}/${o.metadata?.name ?? ''}`;
}

/** checkSchemas validates each object against its kind's schema. */
export function checkSchemas(objects: RenderedObject[]): {
  readonly unknownKinds: string[];
  readonly validations: { readonly id: string; readonly error: string | undefined }[];
} {
  return {
    unknownKinds: objects
      .filter((o) => MODELS[`${o.apiVersion}/${o.kind}`] === undefined)
      .map(objectId),
    validations: objects.map((o) => ({ id: objectId(o), error: validate(o) })),
  };
}

/** rendered parses the YAML stream `kubectl kustomize` printed. */
export function rendered(yaml: string): Manifests {
  const objects = parseObjects(yaml);
  return {
    kinds: objects.map((o) =>
      o.kind === 'ConfigMap' ? objectId(o).replace(/-[a-z0-9]{10}$/, '') : objectId(o),
    ),
    ...checkSchemas(objects),
    namespace: one(objects, 'Namespace'),
    deployment: one(objects, 'Deployment'),
    service: one(objects, 'Service'),
    webhook: one(objects, 'MutatingWebhookConfiguration'),
    policies: one(objects, 'ConfigMap'),
    clusterRole: one(objects, 'ClusterRole'),
    binding: one(objects, 'ClusterRoleBinding'),
    certificates: objects.filter((o) => o.kind === 'Certificate'),
  };
}
