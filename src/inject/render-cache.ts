/**
 * The render cache: what a policy renders to depends only on the policy, the sidecar mode
 * and the values its template references (params, and `pod.*` only where referenced), so
 * every pod of a Deployment, which carries the same annotations, gets the same rendered
 * containers. Rendering them once instead of per pod was the engine's largest avoidable
 * cost (issue 16). Entries are deep-frozen and shared between admissions: a later step
 * that mutated one would throw, not leak one pod's additions into another's.
 */
import type { LoadedPolicy } from '../policy/compile.ts';
import type { SidecarMode } from '../sidecar-mode.ts';
import type { TemplateItem, TemplateNode, TemplateRef, TemplateScope } from '../policy/template.ts';

/**
 * RENDER_CACHE_ENTRIES bounds the cache. An entry is what one policy renders to, a few KB;
 * a cluster's distinct (policy, inputs) pairs in use at once are far fewer than this (one
 * per Deployment and policy), and the bound caps memory at a few MiB whatever pods send.
 */
export const RENDER_CACHE_ENTRIES = 1024;

/** RenderCache keeps rendered policies, oldest out first. */
export interface RenderCache {
  /** rendered returns the cached value for these inputs, or builds, freezes and keeps it. */
  rendered<T>(policy: LoadedPolicy, mode: SidecarMode, scope: TemplateScope, build: () => T): T;
  /** size is the number of entries, for tests. */
  readonly size: number;
}

// Each loaded policy gets a number: a reload makes new LoadedPolicy objects, so an edited
// policy never meets its old renderings (they age out), and two policies never share one.
const policyIds = new WeakMap<LoadedPolicy, number>();
let nextPolicyId = 0;

function policyId(policy: LoadedPolicy): number {
  let id = policyIds.get(policy);
  if (id === undefined) {
    id = nextPolicyId;
    nextPolicyId += 1;
    policyIds.set(policy, id);
  }
  return id;
}

const referencesOf = new WeakMap<TemplateNode, readonly TemplateRef[]>();

// A conditional's param decides which branch renders, so it is a reference like any other.
function collectReferences(node: TemplateItem, into: Map<string, TemplateRef>): void {
  switch (node.type) {
    case 'scalar':
      return;
    case 'string':
      for (const part of node.parts.filter((p) => typeof p !== 'string')) {
        into.set(JSON.stringify(part), part);
      }
      return;
    case 'array':
      for (const item of node.items) collectReferences(item, into);
      return;
    case 'object':
      for (const [, child] of node.entries) collectReferences(child, into);
      return;
    case 'when': {
      const ref: TemplateRef = { kind: 'param', name: node.param };
      into.set(JSON.stringify(ref), ref);
      for (const item of [...node.then, ...node.otherwise]) collectReferences(item, into);
    }
  }
}

/** templateReferences lists each distinct reference in a compiled template, once. */
export function templateReferences(node: TemplateNode): readonly TemplateRef[] {
  let refs = referencesOf.get(node);
  if (refs === undefined) {
    const found = new Map<string, TemplateRef>();
    collectReferences(node, found);
    refs = [...found.values()];
    referencesOf.set(node, refs);
  }
  return refs;
}

// An absent value and '' render alike, but are kept apart in the key all the same: the
// key must never be the same for two inputs a later change to rendering could tell apart.
function referencedValue(ref: TemplateRef, scope: TemplateScope): string | null {
  let value: string | undefined;
  switch (ref.kind) {
    case 'param':
      value = scope.params.get(ref.name);
      break;
    case 'podNamespace':
      value = scope.namespace;
      break;
    case 'podName':
      value = scope.podName;
      break;
    case 'podLabel':
      value = Object.hasOwn(scope.labels, ref.key) ? scope.labels[ref.key] : undefined;
      break;
    case 'podAnnotation':
      value = Object.hasOwn(scope.annotations, ref.key) ? scope.annotations[ref.key] : undefined;
  }
  return typeof value === 'string' ? value : null;
}

/**
 * renderKey is the policy, the mode and the value of every reference the template makes,
 * in the template's order. Each value is prefixed by its length, so values holding any
 * separator stay apart, and an absent value (`-`) differs from an empty one (`0:`).
 */
export function renderKey(policy: LoadedPolicy, mode: SidecarMode, scope: TemplateScope): string {
  let key = `${policyId(policy)} ${mode}`;
  for (const ref of templateReferences(policy.template)) {
    const value = referencedValue(ref, scope);
    key += value === null ? ' -' : ` ${value.length}:${value}`;
  }
  return key;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** createRenderCache makes a cache of at most `limit` entries. */
export function createRenderCache(limit: number = RENDER_CACHE_ENTRIES): RenderCache {
  const entries = new Map<string, unknown>();
  return {
    rendered<T>(policy: LoadedPolicy, mode: SidecarMode, scope: TemplateScope, build: () => T): T {
      const key = renderKey(policy, mode, scope);
      const hit = entries.get(key);
      if (hit !== undefined) return hit as T;
      const built = deepFreeze(build());
      entries.set(key, built);
      // Oldest first out, not least recently used: re-inserting on every hit cost as much
      // as the rendering it saved, and a Deployment's entry comes back at once if dropped.
      if (entries.size > limit) {
        const oldest = entries.keys().next();
        if (oldest.done !== true) entries.delete(oldest.value);
      }
      return built;
    },
    get size() {
      return entries.size;
    },
  };
}
