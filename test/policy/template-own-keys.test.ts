/**
 * A template's pod.labels['key'] and pod.annotations['key'] read only what the pod set:
 * a key every JavaScript object inherits (constructor, toString, __proto__) renders as
 * the empty string when the pod does not carry it, as any other missing key does.
 */
import t from 'tap';
import { compileTemplate, renderTemplate } from '../../src/policy/template.ts';

const INHERITED = ['constructor', 'toString', '__proto__', 'hasOwnProperty'];

function render(expression: string, labels: Record<string, string>): unknown {
  const compiled = compileTemplate({ value: expression }, 'spec', new Set());
  t.strictSame(compiled.problems, [], `${expression} compiles`);
  return renderTemplate(compiled.node, {
    params: new Map(),
    namespace: 'default',
    podName: 'web',
    labels,
    annotations: labels,
  });
}

t.test('an inherited key the pod does not set renders as the empty string', (t) => {
  for (const key of INHERITED) {
    t.strictSame(render(`{{ pod.labels['${key}'] }}`, {}), { value: '' }, `label ${key}`);
    t.strictSame(render(`{{ pod.annotations['${key}'] }}`, {}), { value: '' }, `annotation ${key}`);
  }
  t.end();
});

t.test('a key the pod does set renders as its value', (t) => {
  const labels = Object.fromEntries(INHERITED.map((key) => [key, `set-${key.length}`]));
  for (const key of INHERITED.filter((k) => k !== '__proto__')) {
    t.strictSame(render(`{{ pod.labels['${key}'] }}`, labels), { value: `set-${key.length}` });
  }
  t.end();
});
