/**
 * Issue 15 item 5: every code is documented in one table, and one helper reads the
 * message of anything a `catch` receives.
 */
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { ERROR_CODES, messageOf } from '../src/errors.ts';
import { DENIAL_CODES } from '../src/denial.ts';

t.test(
  'every error and denial code is in the README table, and the table names no other',
  async (t) => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf('### Error and denial codes');
    const section = readme.slice(start, readme.indexOf('\n## ', start));
    const documented = [...section.matchAll(/^\| `([A-Za-z_]+)` \|/gm)].map((m) => m[1]);
    t.strictSame(documented.sort(), [...DENIAL_CODES, ...ERROR_CODES].sort());
  },
);

t.test("messageOf reads an Error's message and any other thrown value as text", (t) => {
  t.strictSame(messageOf(new TypeError('bad flag')), 'bad flag');
  t.strictSame(messageOf('a string thrown by a library'), 'a string thrown by a library');
  t.strictSame(messageOf(undefined), 'undefined');
  t.end();
});
