// What the build tools share: the repository's root and their typed error.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export class BuildError extends Error {
  constructor(
    readonly code: 'BAD_ARGUMENT' | 'MISSING_TOOL' | 'BUILD_FAILED',
    message: string,
  ) {
    super(message);
    this.name = 'BuildError';
  }
}
