// The app runs entirely in the browser (keys, libp2p, WebCrypto): no server rendering. The relay
// serves the SPA shell (200.html) for every route, and the service worker caches it for offline.
export const ssr = false;
export const prerender = false;
