// Size budget: the client bundled with livekit-client external, minified and
// gzipped, must stay <= 12 KB (12288 bytes). Exits 1 when over budget.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUDGET_BYTES = 12 * 1024;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = await build({
  entryPoints: [join(root, 'src/index.ts')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  external: ['livekit-client'],
  minify: true,
  write: false,
  legalComments: 'none',
});
const code = out.outputFiles[0].contents;
const gz = gzipSync(code, { level: 9 }).length;
const ok = gz <= BUDGET_BYTES;
console.log(
  `size: ${code.length} bytes min, ${gz} bytes min+gzip (budget ${BUDGET_BYTES}) ${ok ? 'ok' : 'OVER BUDGET'}`,
);
process.exit(ok ? 0 : 1);
