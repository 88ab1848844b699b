// Refuses, at import, a Node.js that has reached its end of life: kafka-rx is built and tested on
// the supported releases only (22, 24, 26), and a clear sentence beats a failure deep in a send.
import { UnsupportedRuntimeError } from './errors/index.js';

export const OLDEST_SUPPORTED_NODE = 22;

export function assertSupportedNode(version: string = process.versions.node): void {
  const major = Number(version.split('.')[0]);
  if (!(major >= OLDEST_SUPPORTED_NODE)) throw new UnsupportedRuntimeError(`v${version}`, OLDEST_SUPPORTED_NODE);
}

assertSupportedNode();
