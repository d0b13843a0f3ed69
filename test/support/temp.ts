/** Folders for a test's files, inside the run's temp folder (removed at the end of the run). */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';

export interface TempDir {
  path: string;
  remove(): void;
}

export function tempDir(prefix = 'data'): TempDir {
  const path = mkdtempSync(join(inject('testRunDir'), `${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
