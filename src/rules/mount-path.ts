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
  const segments: string[] = [];
  for (const segment of mountPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return `/${segments.join('/')}`;
}
