#!/usr/bin/env bash
# Usage: scripts/netns.sh COMMAND [ARGS...]
#
# Runs COMMAND inside a fresh network namespace with no link to the outside, so nothing the tests
# do can leave the machine; WebRTC between Chromium pages and Node hosts (node-datachannel), and
# between Node hosts, still works inside it. Used by `npm test` and `npm run bench`.
#
#   - Needs root, `unshare` and `ip` (and veth support in the kernel). Otherwise (a user's laptop)
#     it prints one line saying the tests run on loopback and runs COMMAND directly.
#   - CAIRN_NETNS=0 turns it off. Inside, CAIRN_NETNS_ACTIVE=1 is exported (tests/netns.node.test.ts
#     checks the isolation when it is set); a nested call just runs COMMAND.
#   - `unshare --net` ties the namespace to COMMAND's processes: it disappears when the last of
#     them exits; nothing is created on the host (no `ip netns` entry, no interfaces, no routes).
#
# The namespace, found by trying (Chromium 156, node-datachannel 0.33 / libjuice):
#   lo                 127.0.0.1 (relays and WebSockets listen here, as outside)
#   cairn0 <-> cairn1  a veth pair, BOTH ends inside this namespace; cairn0 has 10.203.0.1/24,
#                      cairn1 no address; IPv6 off on both
#   default dev cairn0 (on-link, no gateway), with ARP giving up after one 10 ms probe
#
# Why each part (each tried here, with and without):
#   - Chromium gathers no ICE candidate with only loopback, even with
#     --allow-loopback-in-peer-connection, nor with the veth but no default route: without media
#     permission it does not enumerate interfaces but uses the address the kernel would pick for a
#     public destination (WebRTC's default-local-address lookup), which needs a route. With the
#     default route it gathers one (mDNS-named) host candidate on 10.203.0.1. Without it,
#     Chromium<->Node still connected (Chromium's unannounced socket sends checks to the Node's
#     host candidate, which learns a peer-reflexive one), but Chromium<->Chromium did not (no
#     candidate on either side). Loopback-only (even 10.x/32 on lo): no candidate anywhere.
#     The veth is there to carry that route (`dummy` would do, but is often an absent module).
#   - Packets to any non-local address go out cairn0 and arrive at cairn1, which is in this same
#     namespace, does not forward (ip_forward is 0 in a new namespace) and answers no ARP for
#     them: nothing leaves. Because the default route has no gateway, the kernel ARPs for the
#     destination itself; with a single 10 ms probe the neighbour fails at once, so a TCP connect
#     or a DNS query to anything off-machine fails in ~15 ms with EHOSTUNREACH instead of hanging
#     (with `default via <cairn1's address>` they are silently dropped: connects and DNS time out).
#   - node-datachannel gathers host candidates on every non-loopback address (10.203.0.1 here) and
#     Node<->Node and Chromium<->Node connect over it.
#
# The earlier note "Node-to-Node WebRTC timed out with the default route" did not reproduce with
# the project's `rtcConfiguration: { iceServers: [] }`: raw node-datachannel connected with the
# default route via cairn1's address, on-link, via a missing gateway, /24 or /32, one or two
# addresses; libp2p Node<->Node (the shard-protocol tests) passed with `via` and on-link routes.
# What a default route does change: with libp2p's default ICE servers (4 public STUN hostnames,
# used when iceServers is not given) libjuice resolves those names through DNS. Without a default
# route the query fails at once (ENETUNREACH) and gathering completes in ~15 ms; with a route
# whose packets are silently dropped it waits for the resolver's timeouts: gathering completed
# after ~6 s and stopping a node blocked ~9 s. That is the likely cause of the old timeout (an
# experiment without `iceServers: []`). Here the fast ARP failure makes DNS fail at once too
# (gathering with a STUN server: ~55 ms), but keep `iceServers: []` in tests anyway.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: scripts/netns.sh COMMAND [ARGS...]" >&2
  exit 2
fi

# Inside the new namespace: set it up, then become COMMAND.
if [ "$1" = "--cairn-netns-inside" ]; then
  shift
  ip link set lo up
  ip link add cairn0 type veth peer name cairn1
  for dev in cairn0 cairn1; do
    # Best effort: absent when IPv6 is off in the kernel.
    echo 1 >"/proc/sys/net/ipv6/conf/$dev/disable_ipv6" 2>/dev/null || true
  done
  ip addr add 10.203.0.1/24 dev cairn0
  ip link set cairn0 up
  ip link set cairn1 up
  echo 1 >/proc/sys/net/ipv4/neigh/cairn0/mcast_solicit 2>/dev/null || true
  echo 10 >/proc/sys/net/ipv4/neigh/cairn0/retrans_time_ms 2>/dev/null || true
  ip route add default dev cairn0
  echo 0 >/proc/sys/net/ipv4/ip_forward
  export CAIRN_NETNS_ACTIVE=1
  exec "$@"
fi

if [ "${CAIRN_NETNS_ACTIVE:-}" = 1 ]; then
  exec "$@"
fi
if [ "${CAIRN_NETNS:-1}" = 0 ]; then
  echo "cairn: network tests run on loopback (CAIRN_NETNS=0)" >&2
  exec "$@"
fi
if [ "$(id -u)" != 0 ]; then
  echo "cairn: network tests run on loopback (an isolated network namespace needs root)" >&2
  exec "$@"
fi
if ! command -v unshare >/dev/null || ! command -v ip >/dev/null; then
  echo "cairn: network tests run on loopback (an isolated network namespace needs unshare and ip)" >&2
  exec "$@"
fi
# A throwaway namespace first: a container may forbid unshare, or the kernel lack veth.
if ! unshare --net -- ip link add cairn0 type veth peer name cairn1 2>/dev/null; then
  echo "cairn: network tests run on loopback (could not create a network namespace with a veth pair)" >&2
  exec "$@"
fi
echo "cairn: tests run in an isolated network namespace (lo + veth, no link out; CAIRN_NETNS=0 to run on loopback)" >&2
exec unshare --net -- bash "$0" --cairn-netns-inside "$@"
