/**
 * Registers the service worker (workbox-window) and announces a new version instead of swapping
 * it in silently: `update.available` turns true, and `update.apply()` lets it take over and
 * reloads once it controls the page.
 */
import { Workbox } from 'workbox-window';

class UpdateState {
  available = $state(false);
  /** The shell is cached: the installed app opens without the network. */
  offlineReady = $state(false);
  #wb: Workbox | undefined;

  register(): void {
    if (!('serviceWorker' in navigator)) return;
    const wb = new Workbox('/service-worker.js');
    this.#wb = wb;
    wb.addEventListener('waiting', () => (this.available = true));
    wb.addEventListener('activated', (e) => {
      if (!e.isUpdate) this.offlineReady = true;
    });
    wb.addEventListener('controlling', (e) => {
      if (e.isUpdate) location.reload();
    });
    void wb.register().then(() => {
      if (navigator.serviceWorker.controller) this.offlineReady = true;
    });
  }

  apply(): void {
    this.#wb?.messageSkipWaiting();
  }
}

export const update = new UpdateState();
