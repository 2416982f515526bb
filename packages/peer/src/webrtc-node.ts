/**
 * A fix for WebRTC dials from Node (node-datachannel), applied once per process.
 *
 * On loopback the answerer's DTLS handshake can reach the offerer while libdatachannel is still
 * applying the answer; it then checks the peer's certificate against a remote fingerprint it does
 * not have yet, fails the handshake ("certificate verify failed") and closes the connection.
 * @libp2p/webrtc swallows that state change and waits for its "init" data channel to open until
 * the dial times out (about 6 s), which is what made parallel dials look stalled. Here, once the
 * connection that owns an "init" channel has failed or closed before the channel opened, the
 * channel reports an error to every "error" listener, present or added later (the dialler starts
 * listening only after the failure), which fails the dial at once so that it can be retried.
 *
 * Browsers are untouched (their WebRTC stack waits for the remote fingerprint).
 */

let patched: Promise<void> | undefined;

interface PeerConnectionLike extends EventTarget {
  readonly connectionState: string;
  createDataChannel(label: string, init?: unknown): EventTarget & { readyState: string };
}

type Listener = Parameters<EventTarget['addEventListener']>[1];

export function _patchNodeWebRTC(): Promise<void> {
  const isNode =
    typeof globalThis.process?.versions?.node === 'string' &&
    typeof (globalThis as { window?: unknown }).window === 'undefined';
  if (!isNode) return Promise.resolve();
  return (patched ??= (async () => {
    // A computed specifier, so browser bundlers leave this Node-only module alone.
    const specifier = ['node-datachannel', 'polyfill'].join('/');
    const mod = (await import(/* @vite-ignore */ specifier).catch(() => undefined)) as
      { RTCPeerConnection?: { prototype: PeerConnectionLike } } | undefined;
    const proto = mod?.RTCPeerConnection?.prototype as
      (PeerConnectionLike & { _cairnFailFast?: true }) | undefined;
    if (proto === undefined || proto._cairnFailFast === true) return;
    const create = proto.createDataChannel;
    proto.createDataChannel = function (this: PeerConnectionLike, label: string, init?: unknown) {
      const channel = create.call(this, label, init);
      if (label === 'init') {
        let failed = false;
        const add = channel.addEventListener.bind(channel);
        channel.addEventListener = (type: string, listener: Listener, options?: unknown) => {
          add(type, listener, options as AddEventListenerOptions);
          if (failed && type === 'error' && listener != null)
            queueMicrotask(() => channel.dispatchEvent(new Event('error')));
        };
        const onState = (): void => {
          const state = this.connectionState;
          if (state === 'connected') this.removeEventListener('connectionstatechange', onState);
          else if (state === 'failed' || state === 'closed') {
            this.removeEventListener('connectionstatechange', onState);
            if (channel.readyState === 'open') return;
            failed = true;
            channel.dispatchEvent(new Event('error'));
          }
        };
        this.addEventListener('connectionstatechange', onState);
      }
      return channel;
    };
    proto._cairnFailFast = true;
  })());
}
