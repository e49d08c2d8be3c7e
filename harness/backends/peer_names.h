/* peer_names.h: the peers workloads/reference/peer.py runs, by name: what the name checker,
 * the plugin loader and the command line need of the peers, without the peer runner. */
#ifndef MLPB_PEER_NAMES_H
#define MLPB_PEER_NAMES_H

#define PEERS_KNOWN_N 9 /* entries of peers_known before its NULL */

/* The peers peer.py runs, NULL-terminated: row names beside the backends'. */
extern const char *const peers_known[PEERS_KNOWN_N + 1];

#endif
