import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter({ pages: 'build', assets: 'build', fallback: '200.html', strict: true }),
    files: {
      src: 'app',
      assets: 'static',
    },
    // The layout registers it through workbox-window, to announce updates instead of applying
    // them silently.
    serviceWorker: { register: false },
  },
};

export default config;
