/* network.c: actor networks: degree, density, Brandes' betweenness. */
#include "network.h"
#include "rubric.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NETWORK_ACTORS_MAX 2000

static size_t add_actor(struct network *net, const char *name, size_t *cap)
{
    for (size_t i = 0; i < net->n; i++)
        if (strcmp(net->names[i], name) == 0)
            return i;
    if (net->n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        net->names = xrealloc(net->names, *cap * sizeof(*net->names));
    }
    net->names[net->n] = xstrdup(name);
    return net->n++;
}

int network_build(const struct table *t, struct network *net, char *err, size_t errlen)
{
    int cf = table_col(t, "from"), ct = table_col(t, "to");
    size_t cap = 0;

    memset(net, 0, sizeof(*net));
    if (cf < 0 || ct < 0) {
        snprintf(err, errlen, "table %s needs the columns from and to", t->name);
        return -1;
    }
    size_t (*pairs)[2] = xmalloc((t->nrows ? t->nrows : 1) * sizeof(*pairs));
    size_t np = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        const char *a = t->cells[r][cf], *b = t->cells[r][ct];
        if (a[0] == '\0' && b[0] == '\0')
            continue;
        size_t ia = a[0] ? add_actor(net, a, &cap) : (size_t)-1;
        size_t ib = b[0] ? add_actor(net, b, &cap) : (size_t)-1;
        if (net->n > NETWORK_ACTORS_MAX) {
            snprintf(err, errlen, "table %s has more than %d actors", t->name, NETWORK_ACTORS_MAX);
            free(pairs);
            network_free(net);
            return -1;
        }
        if (ia != (size_t)-1 && ib != (size_t)-1) {
            pairs[np][0] = ia;
            pairs[np][1] = ib;
            np++;
        }
    }
    net->adj = xcalloc(net->n * net->n + 1, sizeof(bool));
    for (size_t k = 0; k < np; k++) {
        size_t a = pairs[k][0], b = pairs[k][1];
        if (a == b || net->adj[a * net->n + b])
            continue;
        net->adj[a * net->n + b] = net->adj[b * net->n + a] = true;
        net->links++;
    }
    free(pairs);
    return 0;
}

void network_free(struct network *net)
{
    for (size_t i = 0; i < net->n; i++)
        free(net->names[i]);
    free(net->names);
    free(net->adj);
    memset(net, 0, sizeof(*net));
}

int network_find(const struct network *net, const char *name)
{
    char *want = rubric_fold(name, true);
    int found = -1;
    for (size_t i = 0; i < net->n && found < 0; i++) {
        char *have = rubric_fold(net->names[i], true);
        if (strcmp(have, want) == 0)
            found = (int)i;
        free(have);
    }
    free(want);
    return found;
}

size_t network_degree(const struct network *net, size_t i)
{
    size_t d = 0;
    for (size_t j = 0; j < net->n; j++)
        d += net->adj[i * net->n + j];
    return d;
}

double network_density(const struct network *net)
{
    if (net->n < 2)
        return 0;
    return (double)net->links / ((double)net->n * (double)(net->n - 1) / 2);
}

void network_betweenness(const struct network *net, double *out)
{
    size_t n = net->n;
    size_t *stack = xmalloc((n + 1) * sizeof(size_t)), *queue = xmalloc((n + 1) * sizeof(size_t));
    double *sigma = xmalloc((n + 1) * sizeof(double)), *delta = xmalloc((n + 1) * sizeof(double));
    long *dist = xmalloc((n + 1) * sizeof(long));
    /* Neighbour lists (CSR): start[v] .. start[v + 1] in nb. */
    size_t *start = xcalloc(n + 2, sizeof(size_t)), *nb = xmalloc((2 * net->links + 1) * sizeof(size_t));

    for (size_t v = 0, k = 0; v < n; v++) {
        start[v] = k;
        for (size_t w = 0; w < n; w++)
            if (net->adj[v * n + w])
                nb[k++] = w;
        start[v + 1] = k;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = 0;
    for (size_t s = 0; s < n; s++) {
        size_t top = 0, head = 0, tail = 0;
        for (size_t i = 0; i < n; i++) {
            sigma[i] = 0;
            delta[i] = 0;
            dist[i] = -1;
        }
        sigma[s] = 1;
        dist[s] = 0;
        queue[tail++] = s;
        while (head < tail) {
            size_t v = queue[head++];
            stack[top++] = v;
            for (size_t k = start[v]; k < start[v + 1]; k++) {
                size_t w = nb[k];
                if (dist[w] < 0) {
                    dist[w] = dist[v] + 1;
                    queue[tail++] = w;
                }
                if (dist[w] == dist[v] + 1)
                    sigma[w] += sigma[v];
            }
        }
        while (top > 0) {
            size_t w = stack[--top];
            /* Predecessors of w are its neighbours one step closer to s. */
            for (size_t k = start[w]; k < start[w + 1]; k++) {
                size_t v = nb[k];
                if (dist[v] >= 0 && dist[v] + 1 == dist[w])
                    delta[v] += sigma[v] / sigma[w] * (1 + delta[w]);
            }
            if (w != s)
                out[w] += delta[w];
        }
    }
    /* Undirected: every pair was counted from both ends. */
    for (size_t i = 0; i < n; i++)
        out[i] /= 2;
    free(start);
    free(nb);
    free(stack);
    free(queue);
    free(sigma);
    free(delta);
    free(dist);
}
