/**
 * Builds `preview_url` answers: HTML pages give their OpenGraph data; an image URL is stored in the
 * media repository (owned by the requesting user) and described with og:image as an mxc:// URI.
 * Results are cached briefly in memory so a URL pasted in a busy room is fetched once.
 */
import { loadSharp } from '../sharp-loader.js';
import type { Config } from '../../config/config.js';
import type { JsonObject } from '../../core/json.js';
import { baseMediaType } from '../content-headers.js';
import type { MediaRepository } from '../media-repository.js';
import { mxcUri } from '../media-ids.js';
import { isThumbnailableType } from '../thumbnailer.js';
import { IpPolicy } from './ip-policy.js';
import { parseOpenGraph } from './open-graph.js';
import { type Resolver, safeFetch } from './safe-fetch.js';

const CACHE_TTL_MS = 60 * 60 * 1000;
const CACHE_MAX = 1000;

export class UrlPreviewer {
  private readonly policy: IpPolicy;
  private readonly cache = new Map<string, { ts: number; result: JsonObject }>();

  constructor(
    private readonly config: Config,
    private readonly media: MediaRepository,
    private readonly now: () => number,
    private readonly resolve?: Resolver,
  ) {
    const c = config.media.url_preview;
    this.policy = new IpPolicy(c.ip_range_denylist, c.ip_range_allowlist);
  }

  get enabled(): boolean {
    return this.config.media.url_preview.enabled;
  }

  /** Throws FetchRefused / FetchFailed (see safe-fetch.ts). */
  async preview(url: string, userId: string): Promise<JsonObject> {
    const hit = this.cache.get(url);
    if (hit && this.now() - hit.ts < CACHE_TTL_MS) return hit.result;
    const c = this.config.media.url_preview;
    const page = await safeFetch(
      url,
      this.policy,
      { maxBytes: c.max_bytes, timeoutMs: c.timeout_ms, maxRedirects: c.max_redirects },
      this.resolve,
    );
    const type = baseMediaType(page.contentType);
    let result: JsonObject = {};
    if (type === 'text/html' || type === 'application/xhtml+xml') {
      const og = parseOpenGraph(page.body.toString('utf8'));
      // og:image must be an mxc:// URI; a remote image URL is not passed through unfetched.
      result = Object.fromEntries(Object.entries(og).filter(([k]) => !k.startsWith('og:image')));
    } else if (isThumbnailableType(type)) {
      result = await this.describeImage(page.body, type, userId);
    }
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(url, { ts: this.now(), result });
    return result;
  }

  private async describeImage(data: Buffer, type: string, userId: string): Promise<JsonObject> {
    let meta: { width?: number; height?: number };
    const sharp = await loadSharp();
    try {
      meta = await sharp(data).metadata();
    } catch {
      return {};
    }
    const mediaId = await this.media.uploadBuffer(userId, data, type);
    const out: JsonObject = {
      'og:image': mxcUri(this.config.server_name, mediaId),
      'og:image:type': type,
      'matrix:image:size': data.length,
    };
    if (meta.width) out['og:image:width'] = meta.width;
    if (meta.height) out['og:image:height'] = meta.height;
    return out;
  }
}
