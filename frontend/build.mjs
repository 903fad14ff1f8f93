// Bundles frontend/src into the Python package's static files (served under /assets/):
//   npm ci --prefix frontend && npm run build --prefix frontend
// The output is committed, so running the site needs only Python.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const staticDir = path.join(here, '..', 'src', 'trovato', 'render', 'static');

const bundles = [
  { entry: 'src/forms.js', out: 'js/forms.js' },
  { entry: 'src/editor.js', out: 'editor/editor.js' },
];

for (const { entry, out } of bundles) {
  await build({
    entryPoints: [path.join(here, entry)],
    outfile: path.join(staticDir, out),
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2020'],
    legalComments: 'eof',
    logLevel: 'info',
  });
}
