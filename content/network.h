/* network.h: the actor network of a case study (a from,to table of
 * undirected links) and its measures: degree, density, betweenness. */
#ifndef CAMPUS_NETWORK_H
#define CAMPUS_NETWORK_H

#include <stdbool.h>
#include <stddef.h>

#include "table.h"

struct network {
    char **names;     /* owned actor names, in order of first appearance */
    size_t n;
    bool *adj;        /* n*n adjacency, symmetric, no self links */
    size_t links;     /* distinct undirected links */
};

/* Builds the network from a table with columns "from" and "to". A row with
 * an empty "to" names an actor without adding a link; repeated links and
 * self links count once / not at all. Returns 0, or -1 with a message in
 * err (missing columns, more than 2000 actors). Free with network_free. */
int network_build(const struct table *t, struct network *net, char *err, size_t errlen);
void network_free(struct network *net);

/* Index of the actor whose name matches (ignoring case, accents and extra
 * spaces), or -1. */
int network_find(const struct network *net, const char *name);

size_t network_degree(const struct network *net, size_t i);

/* Links over possible links, n(n-1)/2; 0 for fewer than two actors. */
double network_density(const struct network *net);

/* Betweenness centrality of every actor (Brandes' algorithm, unweighted,
 * undirected, each pair counted once) into out[0..n). */
void network_betweenness(const struct network *net, double *out);

#endif
