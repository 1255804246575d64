/**
 * Thumbnail generation with sharp (libvips). Sources are sniffed by sharp from their bytes, not from
 * the uploaded Content-Type, and only the formats we choose to decode are accepted.
 *
 * Methods (client-server API, Thumbnails): `crop` fills exactly the requested box (aspect of the
 * request), `scale` keeps the aspect and fits inside the box. Never upscale; when the source already
 * fits in the box the caller serves the original instead.
 */
import type { Metadata } from 'sharp';
import { loadSharp } from './sharp-loader.js';

export type ThumbnailMethod = 'crop' | 'scale';

/** The sizes every image gets on upload (the spec's recommended list). */
export const COMMON_SIZES: readonly { width: number; height: number; method: ThumbnailMethod }[] = [
  { width: 32, height: 32, method: 'crop' },
  { width: 96, height: 96, method: 'crop' },
  { width: 320, height: 240, method: 'scale' },
  { width: 640, height: 480, method: 'scale' },
  { width: 800, height: 600, method: 'scale' },
];

/** Upload Content-Types worth attempting (everything else is refused without decoding). */
const THUMBNAILABLE_TYPES = new Set(['image/png', 'image/apng', 'image/jpeg', 'image/gif', 'image/webp']);
const DECODABLE_FORMATS = new Set(['png', 'jpeg', 'gif', 'webp']);
const ANIMATABLE_FORMATS = new Set(['gif', 'webp']);

export function isThumbnailableType(baseType: string): boolean {
  return THUMBNAILABLE_TYPES.has(baseType);
}

export class CannotThumbnail extends Error {}
export class SourceTooLarge extends Error {}

export interface SourceInfo {
  format: string;
  width: number;
  height: number;
  animated: boolean;
}

/** Reads the image header. Throws CannotThumbnail for anything that is not a supported image. */
export async function probe(path: string, maxPixels: number): Promise<SourceInfo> {
  let meta: Metadata;
  const sharp = await loadSharp();
  try {
    meta = await sharp(path).metadata();
  } catch {
    throw new CannotThumbnail('Cannot generate thumbnails for the requested content: not a supported image');
  }
  if (!meta.format || !DECODABLE_FORMATS.has(meta.format) || !meta.width || !meta.height) {
    throw new CannotThumbnail('Cannot generate thumbnails for the requested content: not a supported image');
  }
  const pages = meta.pages ?? 1;
  if (meta.width * meta.height * Math.min(pages, 100) > maxPixels) {
    throw new SourceTooLarge('Content is too large to thumbnail');
  }
  return { format: meta.format, width: meta.width, height: meta.height, animated: pages > 1 };
}

export interface ThumbnailRequest {
  width: number;
  height: number;
  method: ThumbnailMethod;
  /** Asked for an animated thumbnail (only honoured for animated GIF/WebP sources). */
  animated: boolean;
}

export interface Thumbnail {
  data: Buffer;
  contentType: string;
}

/** Whether a request for `req` of this source is served by an animated thumbnail. */
export function wantsAnimation(src: SourceInfo, req: ThumbnailRequest): boolean {
  return req.animated && src.animated && ANIMATABLE_FORMATS.has(src.format);
}

/** True when the source already fits the requested box: the original is served, never upscaled. */
export function fitsWithin(src: SourceInfo, req: ThumbnailRequest): boolean {
  return src.width <= req.width && src.height <= req.height && (!src.animated || wantsAnimation(src, req));
}

export async function generateThumbnail(path: string, src: SourceInfo, req: ThumbnailRequest): Promise<Thumbnail> {
  const animate = wantsAnimation(src, req);
  const sharp = await loadSharp();
  try {
    let img = sharp(path, { animated: animate, limitInputPixels: false });
    // EXIF orientation applies to still photos; libvips cannot rotate multi-page images in one go.
    if (!animate) img = img.rotate();
    img = img.resize(req.width, req.height, {
      fit: req.method === 'crop' ? 'cover' : 'inside',
      withoutEnlargement: true,
    });
    // Animated → WebP (the spec's preference); photos stay JPEG; everything else PNG (keeps alpha).
    if (animate) return { data: await img.webp({ quality: 80 }).toBuffer(), contentType: 'image/webp' };
    if (src.format === 'jpeg') return { data: await img.jpeg({ quality: 80 }).toBuffer(), contentType: 'image/jpeg' };
    return { data: await img.png().toBuffer(), contentType: 'image/png' };
  } catch (err) {
    // A header that parsed but a body that does not decode (truncated or corrupt file). libvips's
    // own message names its internals, so it goes to the log (as the cause), not to the client.
    throw new CannotThumbnail('Cannot generate thumbnails for the requested content: the image data is corrupt or truncated', { cause: err });
  }
}

/**
 * The stored thumbnail that answers a request: the smallest common size of the same method that is at
 * least as large as asked, else exactly what was asked (generated on demand and cached).
 */
export function chooseSize(req: ThumbnailRequest): { width: number; height: number } {
  let best: { width: number; height: number } | undefined;
  for (const s of COMMON_SIZES) {
    if (s.method !== req.method || s.width < req.width || s.height < req.height) continue;
    if (!best || s.width * s.height < best.width * best.height) best = s;
  }
  return best ? { width: best.width, height: best.height } : { width: req.width, height: req.height };
}
