import type { Multiaddr } from '@multiformats/multiaddr';

/** The peer id text of an address's last /p2p component. */
export function peerIdText(ma: Multiaddr): string | undefined {
  return ma
    .getComponents()
    .filter((c) => c.name === 'p2p')
    .at(-1)?.value;
}

/** True for a WebRTC (browser-to-browser style, relay-signalled) address. */
export function isWebRTCAddress(ma: Multiaddr): boolean {
  return ma.getComponents().some((c) => c.name === 'webrtc');
}

/** True for an address through a relay circuit without WebRTC on top. */
export function isCircuitAddress(ma: Multiaddr): boolean {
  const names = ma.getComponents().map((c) => c.name);
  return names.includes('p2p-circuit') && !names.includes('webrtc');
}
