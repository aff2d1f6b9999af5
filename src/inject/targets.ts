/**
 * targetContainers picks the app containers that get the policies' mounts and env: those
 * named in `tandem.dev/target-containers`, else every container tandem did not add. One
 * pass over the pod's containers and one over the names: both are pod-supplied lists.
 */
import { TARGET_CONTAINERS_ANNOTATION } from '../annotations.ts';
import type { PodFacts } from './pod-facts.ts';
import { quoteValue } from './quote.ts';
import { denial } from '../denial.ts';
import { fail, ok, type Result } from './result.ts';

/** targetContainers returns the indexes, in `spec.containers`, of the app's containers. */
export function targetContainers(
  facts: Pick<PodFacts, 'containers' | 'targetNames' | 'status'>,
): Result<readonly number[]> {
  const { containers, targetNames } = facts;
  if (targetNames === undefined) {
    const added = new Set(facts.status.containers);
    const targets: number[] = [];
    for (const [i, container] of containers.entries()) {
      if (!added.has(container.name)) targets.push(i);
    }
    return ok(targets);
  }
  if (targetNames.length === 0) {
    // Most often a templated value that came out empty: injecting the policy's mounts and
    // env into no container at all would leave the app without what it asked for.
    return fail(
      denial(
        'TargetContainersEmpty',
        `annotation ${TARGET_CONTAINERS_ANNOTATION} names no container: name at least one of the pod's containers, or remove the annotation to target all of them`,
      ),
    );
  }
  const indexOf = new Map<string, number>();
  containers.forEach((c, i) => {
    if (!indexOf.has(c.name)) indexOf.set(c.name, i);
  });
  const targets = new Set<number>();
  for (const name of targetNames) {
    const index = indexOf.get(name);
    if (index === undefined) {
      return fail(
        denial(
          'TargetContainerUnknown',
          `annotation ${TARGET_CONTAINERS_ANNOTATION} names container ${quoteValue(name)}, which the pod does not have`,
        ),
      );
    }
    targets.add(index);
  }
  return ok([...targets]);
}
