/**
 * Minimal OpenGraph extraction: `<meta property="og:*" content>` tags, falling back to `<title>` and
 * `<meta name="description">`. A regex scan, not a full HTML parser: previews are best effort and the
 * input is bounded by url_preview.max_bytes.
 */

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

function attributes(tag: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const m of tag.matchAll(/([a-zA-Z:_-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/g)) {
    attrs.set(m[1].toLowerCase(), decodeEntities(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return attrs;
}

const clean = (s: string) => s.replace(/\s+/g, ' ').trim();

export function parseOpenGraph(html: string): Record<string, string> {
  const og: Record<string, string> = {};
  let description: string | undefined;
  for (const m of html.matchAll(/<meta\b[^>]*>/gi)) {
    const a = attributes(m[0]);
    const key = a.get('property') ?? a.get('name');
    const content = a.get('content');
    if (key === undefined || content === undefined) continue;
    if (key.startsWith('og:') && !(key in og)) og[key] = clean(content).slice(0, 1000);
    if (key.toLowerCase() === 'description') description = clean(content).slice(0, 1000);
  }
  if (og['og:title'] === undefined) {
    const title = /<title\b[^>]*>([\s\S]*?)<\/title>/i.exec(html);
    if (title) og['og:title'] = clean(decodeEntities(title[1])).slice(0, 1000);
  }
  if (og['og:description'] === undefined && description !== undefined) og['og:description'] = description;
  return og;
}
