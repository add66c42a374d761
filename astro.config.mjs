// Astro builds the status site into a server bundle the renderer calls in-process: one page per call, written out as static files.
import { defineConfig } from 'astro/config';

/**
 * A minimal adapter: its entry exports `renderPage(view)` instead of starting a server. The renderer imports the built
 * bundle and renders only the pages a publish changed (see docs/decisions and api/site/astro.ts).
 */
const inProcessRenderer = {
  name: 'statusdesk-renderer',
  hooks: {
    'astro:config:done': ({ setAdapter }) => {
      setAdapter({
        name: 'statusdesk-renderer',
        entrypointResolution: 'auto',
        serverEntrypoint: new URL('./site/server-entry.ts', import.meta.url),
        adapterFeatures: { buildOutput: 'server' },
        supportedAstroFeatures: { serverOutput: 'stable', staticOutput: 'stable', hybridOutput: 'stable', sharpImageService: 'unsupported' },
      });
    },
  },
};

export default defineConfig({
  srcDir: 'site',
  // Static files (the local-time and embed scripts) live with the site's sources, so a change to one rebuilds the bundle.
  publicDir: 'site/public',
  output: 'server',
  adapter: inProcessRenderer,
  // Scripts and stylesheets only as files: the CSP allows no inline script or style.
  build: { inlineStylesheets: 'never' },
  image: { service: { entrypoint: 'astro/assets/services/noop' } },
  devToolbar: { enabled: false },
});
