/* test_network.c: actor networks: degree, density, Brandes' betweenness. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "network.h"
#include "table.h"

static struct network build(const char *csv)
{
    char err[200];
    int line;
    struct table *t = table_parse("links", csv, strlen(csv), 1, err, sizeof(err), &line);
    cr_assert_not_null(t, "%s", err);
    struct network net;
    cr_assert_eq(network_build(t, &net, err, sizeof(err)), 0, "%s", err);
    table_free(t);
    return net;
}

Test(network, path_betweenness)
{
    /* A - B - C - D: B and C each lie on two shortest paths. */
    struct network net = build("from,to\nA,B\nB,C\nC,D\n");
    double bc[4];
    network_betweenness(&net, bc);
    cr_assert_eq(net.n, 4);
    cr_assert_float_eq(bc[0], 0, 1e-9);
    cr_assert_float_eq(bc[1], 2, 1e-9);
    cr_assert_float_eq(bc[2], 2, 1e-9);
    cr_assert_float_eq(bc[3], 0, 1e-9);
    cr_assert_float_eq(network_density(&net), 3.0 / 6.0, 1e-9);
    network_free(&net);
}

Test(network, star_and_split_paths)
{
    /* Star: the hub lies on all 3 pairs of leaves. */
    struct network net = build("from,to\nHub,A\nHub,B\nHub,C\n");
    double bc[4];
    network_betweenness(&net, bc);
    cr_assert_float_eq(bc[0], 3, 1e-9);
    cr_assert_eq(network_degree(&net, 0), 3);
    network_free(&net);
    /* Square A-B-D, A-C-D: B and C share the A-D pair half each. */
    net = build("from,to\nA,B\nA,C\nB,D\nC,D\n");
    network_betweenness(&net, bc);
    cr_assert_float_eq(bc[1], 0.5, 1e-9);
    cr_assert_float_eq(bc[2], 0.5, 1e-9);
    network_free(&net);
}

Test(network, duplicates_self_links_and_isolated)
{
    struct network net = build("from,to\nA,B\nB,A\nA,B\nC,C\nD,\n");
    cr_assert_eq(net.n, 4);
    cr_assert_eq(net.links, 1);
    cr_assert_eq(network_degree(&net, 2), 0);
    cr_assert_eq(network_degree(&net, 3), 0);
    cr_assert_eq(network_find(&net, "  d "), 3);
    cr_assert_eq(network_find(&net, "E"), -1);
    network_free(&net);
}

Test(network, missing_columns)
{
    char err[200];
    int line;
    const char *csv = "source,target\nA,B\n";
    struct table *t = table_parse("links", csv, strlen(csv), 1, err, sizeof(err), &line);
    struct network net;
    cr_assert_eq(network_build(t, &net, err, sizeof(err)), -1);
    cr_assert(strstr(err, "from and to") != NULL);
    table_free(t);
}

Test(network, large_networks_are_quick_and_bounded, .timeout = 30)
{
    /* A ring of 1,500 actors: every actor has the same betweenness. */
    struct { char *data; size_t len, cap; } csv = { NULL, 0, 0 };
    FILE *f = open_memstream(&csv.data, &csv.len);
    fputs("from,to\n", f);
    for (int i = 0; i < 1500; i++)
        fprintf(f, "a%d,a%d\n", i, (i + 1) % 1500);
    fclose(f);
    struct network net = build(csv.data);
    free(csv.data);
    double *bc = calloc(net.n, sizeof(double));
    network_betweenness(&net, bc);
    cr_assert_float_eq(bc[0], bc[700], 1e-6);
    cr_assert_gt(bc[0], 0);
    free(bc);
    network_free(&net);

    f = open_memstream(&csv.data, &csv.len);
    fputs("from,to\n", f);
    for (int i = 0; i < 2001; i++)
        fprintf(f, "b%d,\n", i);
    fclose(f);
    char err[200];
    int line;
    struct table *t = table_parse("links", csv.data, csv.len, 1, err, sizeof(err), &line);
    free(csv.data);
    cr_assert_not_null(t);
    cr_assert_eq(network_build(t, &net, err, sizeof(err)), -1);
    cr_assert(strstr(err, "more than 2000 actors") != NULL, "%s", err);
    table_free(t);
}
