/* test_content_table.c: CSV parsing of ```table blocks and cell access. */
#include <criterion/criterion.h>
#include <string.h>

#include "table.h"

static struct table *parse(const char *csv, char *err, int *err_line)
{
    static char buf[256];
    int line = 0;

    return table_parse("t", csv, strlen(csv), 10, err ? err : buf, 256, err_line ? err_line : &line);
}

Test(table, header_and_rows_trimmed)
{
    struct table *t = parse("from , to,kind\n Spinner A,Weaver B , supplies\n", NULL, NULL);

    cr_assert_not_null(t);
    cr_assert_eq(t->ncols, 3);
    cr_assert_eq(t->nrows, 1);
    cr_assert_str_eq(t->header[0], "from");
    cr_assert_str_eq(t->header[1], "to");
    cr_assert_str_eq(t->cells[0][0], "Spinner A");
    cr_assert_str_eq(t->cells[0][1], "Weaver B");
    cr_assert_str_eq(t->cells[0][2], "supplies");
    cr_assert_str_eq(t->name, "t");
    table_free(t);
}

Test(table, quotes_commas_and_doubled_quotes)
{
    struct table *t = parse("a,b\n\"x, y\",\"say \"\"hi\"\"\"\n\" kept \",plain\n", NULL, NULL);

    cr_assert_not_null(t);
    cr_assert_eq(t->nrows, 2);
    cr_assert_str_eq(t->cells[0][0], "x, y");
    cr_assert_str_eq(t->cells[0][1], "say \"hi\"");
    cr_assert_str_eq(t->cells[1][0], " kept ", "quoted spaces are kept");
    table_free(t);
}

Test(table, quoted_newline_is_part_of_the_field)
{
    struct table *t = parse("a,b\n\"two\nlines\",x\n", NULL, NULL);

    cr_assert_not_null(t);
    cr_assert_eq(t->nrows, 1);
    cr_assert_str_eq(t->cells[0][0], "two\nlines");
    table_free(t);
}

Test(table, crlf_rows_and_blank_lines)
{
    struct table *t = parse("a,b\r\n\r\n1,2\r\n   \r\n3,4\r\n", NULL, NULL);

    cr_assert_not_null(t);
    cr_assert_eq(t->nrows, 2);
    cr_assert_str_eq(t->header[1], "b");
    cr_assert_str_eq(t->cells[0][1], "2");
    cr_assert_str_eq(t->cells[1][1], "4");
    table_free(t);
}

Test(table, short_rows_are_padded)
{
    struct table *t = parse("a,b,c\n1\n1,2\n", NULL, NULL);

    cr_assert_not_null(t);
    cr_assert_str_eq(t->cells[0][1], "");
    cr_assert_str_eq(t->cells[0][2], "");
    cr_assert_str_eq(t->cells[1][2], "");
    table_free(t);
}

Test(table, long_row_is_an_error_with_its_line)
{
    char err[256];
    int line = 0;

    cr_assert_null(parse("a,b\n1,2\n1,2,3\n", err, &line));
    cr_assert_eq(line, 12, "first CSV line is 10, the bad row is the third");
    cr_assert_str_eq(err, "row has 3 fields but the header has 2");
}

Test(table, unterminated_quote_is_an_error)
{
    char err[256];
    int line = 0;

    cr_assert_null(parse("a,b\n\"open,2\n", err, &line));
    cr_assert_str_eq(err, "unterminated quoted field");
    cr_assert_eq(line, 11);
}

Test(table, text_after_closing_quote_is_an_error)
{
    char err[256];
    int line = 0;

    cr_assert_null(parse("a,b\n\"x\"y,2\n", err, &line));
    cr_assert_str_eq(err, "unexpected text after a closing quote");
    cr_assert_eq(line, 11);
}

Test(table, empty_csv_has_no_header)
{
    char err[256];
    int line = 0;

    cr_assert_null(parse("\n  \n", err, &line));
    cr_assert_str_eq(err, "table t has no header row");
}

Test(table, empty_header_column_is_an_error)
{
    char err[256];
    int line = 0;

    cr_assert_null(parse("a,,c\n", err, &line));
    cr_assert_str_eq(err, "column 2 of the header row is empty");
    cr_assert_eq(line, 10);
}

Test(table, lookups_by_column_and_row)
{
    struct table *t = parse("group,count\nproducers,46\ntraders,4\n", NULL, NULL);

    cr_assert_eq(table_col(t, "count"), 1);
    cr_assert_eq(table_col(t, "missing"), -1);
    cr_assert_eq(table_row(t, "traders"), 1);
    cr_assert_eq(table_row(t, "nobody"), -1);
    table_free(t);
}

Test(table, numbers_with_separators_and_percent)
{
    struct table *t = parse("k,v\na,\"1,234.5\"\nb,92%\nc, -3 \nd,abc\ne,\nf,1e3\ng,inf\n", NULL, NULL);
    double v = 0;

    cr_assert(table_number(t, 0, 1, &v));
    cr_assert_float_eq(v, 1234.5, 1e-9);
    cr_assert(table_number(t, 1, 1, &v));
    cr_assert_float_eq(v, 92, 1e-9, "the % is dropped, not divided");
    cr_assert(table_number(t, 2, 1, &v));
    cr_assert_float_eq(v, -3, 1e-9);
    cr_assert_not(table_number(t, 3, 1, &v));
    cr_assert_not(table_number(t, 4, 1, &v));
    cr_assert(table_number(t, 5, 1, &v));
    cr_assert_float_eq(v, 1000, 1e-9);
    cr_assert_not(table_number(t, 6, 1, &v));
    cr_assert_not(table_number(t, 9, 1, &v), "row out of range");
    cr_assert_not(table_number(t, 0, 5, &v), "column out of range");
    table_free(t);
}
