/* table.h: data tables of a case study: ```table NAME fenced blocks of CSV. */
#ifndef CAMPUS_TABLE_H
#define CAMPUS_TABLE_H

#include <stdbool.h>
#include <stddef.h>

struct table {
    char *name;        /* owned; the word after "table" in the info string */
    int line;          /* line of the opening fence in its file */
    size_t ncols;      /* columns, from the header row */
    size_t nrows;      /* data rows, header excluded */
    char **header;     /* ncols owned strings, trimmed */
    char ***cells;     /* cells[row][col], owned strings, trimmed; short rows
                        * are padded with "" so every row has ncols cells */
    char **labels;     /* NULL, or ncols owned strings or NULLs: what readers see
                        * above a column (a block's labels: line) */
};

/* Parses CSV (RFC 4180 quoting: "a, b" and "" inside quotes; LF or CRLF rows;
 * blank lines skipped; surrounding spaces of unquoted fields trimmed). The
 * header row is required. A row with more fields than the header is an error.
 * Returns the table (caller frees with table_free) or NULL with a message in
 * err and, in *err_line, the file line of the problem (first_line is the file
 * line of the first CSV line). */
struct table *table_parse(const char *name, const char *csv, size_t len,
                          int first_line, char *err, size_t errlen, int *err_line);

void table_free(struct table *t);

/* Reads a labels: line ("name = Label; name2 = Label 2", n bytes at s)
 * into t->labels. Returns 0, or -1 with a message in err (an unknown
 * column name, a pair without '=', an empty label). */
int table_labels(struct table *t, const char *s, size_t n, char *err, size_t errlen);

/* Column index of the header named col (exact match after trimming), or -1. */
int table_col(const struct table *t, const char *col);

/* Row index whose first cell equals key, or -1. */
int table_row(const struct table *t, const char *key);
/* The table called name among the n of a file, or NULL. */
const struct table *table_find(const struct table *const *tables, size_t n, const char *name);

/* Parses cell (row, col) as a number ("1,234.5" and "92%" accepted; the %
 * is dropped, not divided). Returns false if it is not a number. */
bool table_number(const struct table *t, size_t row, size_t col, double *out);

#endif
