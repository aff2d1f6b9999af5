/**
 * resolveMountPath is where a container mount path lands, as the kubelet and the runtime
 * resolve it: the kubelet makes a relative path absolute by prefixing "/"
 * (`MakeAbsolutePath` in pkg/volume/util), and the runtime cleans the path as Go's
 * `path.Clean` does. `/var/log/app/`, `//var/log/app`, `/var/log/./app`,
 * `/var/log/app/.`, `/var/log/x/../app` and `var/log/app` are all `/var/log/app`, while
 * the API server compares mount paths as plain strings and lets them all through.
 *
 * For a rooted path, `path.Clean` is exactly this: drop empty and "." segments, let ".."
 * remove the segment before it (and do nothing at the root), and join with single
 * slashes. (Node's `path.posix.normalize` differs: it keeps a trailing slash.)
 */
export function resolveMountPath(mountPath: string): string {
  // Almost every path is written clean; checking that costs a few scans and no garbage,
  // where splitting and joining cost two arrays and a string per mount per admission.
  if (isClean(mountPath)) return mountPath;
  const segments: string[] = [];
  for (const segment of mountPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return `/${segments.join('/')}`;
}

/**
 * isClean: `path` is already what path.Clean makes of it. Rooted, no empty segment (no
 * `//`, no trailing `/` but the root's), and no segment that starts with a dot, which
 * leaves out `.` and `..` (and, needlessly but harmlessly, `.hidden`, which then takes the
 * long way to the same answer).
 */
function isClean(path: string): boolean {
  if (path === '/') return true;
  return (
    path.startsWith('/') && !path.endsWith('/') && !path.includes('//') && !path.includes('/.')
  );
}
