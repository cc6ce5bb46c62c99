/* expr.h: the compute: expressions of numeric tasks, over data tables. */
#ifndef CAMPUS_EXPR_H
#define CAMPUS_EXPR_H

#include <stddef.h>

#include "table.h"

/* Evaluates an expression:
 *   expr   := term (("+" | "-") term)*
 *   term   := unary (("*" | "/") unary)*
 *   unary  := ("-" | "+") unary | primary
 *   primary:= NUMBER | "(" expr ")" | sum(REF) | mean(REF) | min(REF)
 *           | max(REF) | count(TABLE) | value(REF, KEY)
 *   REF    := TABLE "." COLUMN
 * TABLE and COLUMN are names ([A-Za-z0-9_-] or "double quoted"); KEY is
 * "double quoted" or the bare text up to ")" (trimmed). Column functions
 * skip empty cells; any other cell must be a number (table_number). Returns
 * 0 with the value in *out, or -1 with a message in err (unknown table or
 * column, a cell that is not a number, division by zero, syntax). */
int expr_eval(const char *src, const struct table *const *tables, size_t ntables,
              double *out, char *err, size_t errlen);

#endif
