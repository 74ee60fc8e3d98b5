import { gatehousePeer } from './gatehouse.js';
import { haproxyPeer } from './haproxy.js';
import { nginxPeer } from './nginx.js';
import { httpProxy3Peer, microgatewayPeer } from './node-peers.js';
import type { Peer, SystemName } from './types.js';

/** Report order: the system under test first, then the reference (nginx), then the others. */
export const PEERS: readonly Peer[] = [
  gatehousePeer,
  nginxPeer,
  haproxyPeer,
  httpProxy3Peer,
  microgatewayPeer,
];

export const SYSTEM_NAMES: readonly SystemName[] = PEERS.map((p) => p.name);
