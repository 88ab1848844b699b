import { extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Where the compression worker's module is: beside this one, with this one's extension (.ts from
 * sources under tsx, .js when built). CommonJS knows its directory but has no import.meta, an ES
 * module the reverse: the ES module build replaces this file with one that reads import.meta.url
 * (scripts/build.mjs).
 */
export const compressionWorkerUrl: URL = pathToFileURL(join(__dirname, `compression-worker${extname(__filename)}`));
