// Static files for the demo page: a fixed set of roots, no directory
// listings, no path escaping a root, small fixed set of content types.
import { readFile } from 'node:fs/promises';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * mounts: [{ prefix: '/pkg/', dir: '/abs/dir' }, { prefix: '/x.js', file: '/abs/file' }].
 * Returns (urlPath) -> Promise<{ status, type, body }>.
 */
export function staticFiles(mounts) {
  return async (urlPath) => {
    for (const m of mounts) {
      let file = null;
      if (m.file && urlPath === m.prefix) file = m.file;
      else if (m.dir && urlPath.startsWith(m.prefix)) {
        const rel = decodeURIComponent(urlPath.slice(m.prefix.length)) || 'index.html';
        const abs = path.resolve(m.dir, rel);
        if (!abs.startsWith(m.dir + path.sep)) return { status: 404 };
        file = abs;
      }
      if (!file) continue;
      const type = TYPES[path.extname(file)];
      if (!type) return { status: 404 };
      try {
        return { status: 200, type, body: await readFile(file) };
      } catch {
        return { status: 404 };
      }
    }
    return { status: 404 };
  };
}
