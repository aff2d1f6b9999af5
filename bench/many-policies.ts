/**
 * The 1,000-policy scale check's policies directory: the three built-ins plus generated
 * ones, so the pod asks for the same built-in policy as in the 3-policy run and the only
 * difference is how many are loaded. Half of the generated policies are automatic (a
 * `selector` the bench pods do not match): the webhook checks every automatic policy
 * against every pod, so those are the ones that could make admission cost grow with the
 * directory.
 */
import { copyFile, mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** generatedPolicy is one small valid SidecarPolicy, numbered `index`. */
export function generatedPolicy(index: number): string {
  const name = `bench-policy-${String(index).padStart(4, '0')}`;
  const selector =
    index % 2 === 0
      ? `  selector:\n    matchLabels:\n      bench.tandem.dev/group: g${index}\n`
      : '';
  return `apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata:
  name: ${name}
spec:
  pattern: sidecar
  description: Generated for the 1,000-policy benchmark.
${selector}  params:
    level:
      default: info
      pattern: '[a-z]{1,10}'
  containers:
    - name: ${name}
      image: registry.example.com/bench/agent:1.0.0
      args: ['--level={{ params.level }}', '--pod={{ pod.name }}']
      resources:
        requests: { cpu: 5m, memory: 8Mi }
`;
}

/**
 * writeManyPolicies writes a directory holding the YAML files of `builtinsDir` and
 * enough generated policies to make `total`, ten to a file; it returns the directory.
 */
export async function writeManyPolicies(builtinsDir: string, total: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-bench-policies-'));
  await mkdir(dir, { recursive: true });
  const builtins = (await readdir(builtinsDir)).filter((n) => n.endsWith('.yaml'));
  for (const name of builtins) await copyFile(join(builtinsDir, name), join(dir, name));
  const perFile = 10;
  const count = total - builtins.length;
  for (let start = 0; start < count; start += perFile) {
    const documents: string[] = [];
    for (let i = start; i < Math.min(start + perFile, count); i += 1) {
      documents.push(generatedPolicy(i));
    }
    const file = `bench-${String(start / perFile).padStart(3, '0')}.yaml`;
    await writeFile(join(dir, file), documents.join('---\n'));
  }
  return dir;
}
