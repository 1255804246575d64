/** Query-parameter schemas shared by the media endpoints. */
import { z } from 'zod';
import { MAX_WAIT_MS } from '../../media/media-repository.js';

export const booleanParam = z.enum(['true', 'false']).transform((v) => v === 'true');

export const timeoutMs = z.coerce.number().int().min(0).optional().default(MAX_WAIT_MS);

/** The spec's `filename` on uploads: any name, bounded so it fits in a header. */
export const uploadFilename = z
  .string()
  .max(255)
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters')
  .optional();
