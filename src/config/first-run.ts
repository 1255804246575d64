/** First start without a config file: write one from config.sample.yaml. */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** config.sample.yaml at the package root (this file runs from dist/src/config/). */
export const SAMPLE_CONFIG_PATH = fileURLToPath(new URL('../../../config.sample.yaml', import.meta.url));

/** Returns true when it created the file. */
export function ensureConfigFile(path: string): boolean {
  if (existsSync(path)) return false;
  mkdirSync(dirname(path), { recursive: true });
  copyFileSync(SAMPLE_CONFIG_PATH, path);
  return true;
}
