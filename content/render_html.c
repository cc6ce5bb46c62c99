/* render_html.c: safe HTML of lessons (cmark) and of tables and placeholders. */
#include "render.h"
#include "node_arena.h"
#include "util.h"

#include <cmark.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

char *render_html_node_mem(struct cmark_node *doc)
{
    /* cmark 0.30 is safe by default: without CMARK_OPT_UNSAFE raw HTML is
     * replaced by a comment and javascript:/vbscript:/file:/data: links are
     * emptied. The loader has emptied every other disallowed scheme too. */
    return cmark_render_html(doc, CMARK_OPT_DEFAULT);
}

char *render_html(struct cmark_node *doc)
{
    char *html = render_html_node_mem(doc);
    char *copy = xstrdup(html);

    node_mem_free(html);         /* doc was parsed with node_mem: so is html */
    return copy;
}

void render_html_escape(struct sbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&': sbuf_adds(b, "&amp;"); break;
        case '<': sbuf_adds(b, "&lt;"); break;
        case '>': sbuf_adds(b, "&gt;"); break;
        case '"': sbuf_adds(b, "&quot;"); break;
        default: sbuf_addc(b, s[i]);
        }
    }
}

static void esc(struct sbuf *b, const char *s)
{
    render_html_escape(b, s, strlen(s));
}

char *render_table_html(const struct table *t)
{
    struct sbuf b = {0};

    sbuf_adds(&b, "<table class=\"data\" data-table=\"");
    esc(&b, t->name);
    sbuf_adds(&b, "\">\n<thead>\n<tr>");
    for (size_t c = 0; c < t->ncols; c++) {
        sbuf_adds(&b, "<th>");
        esc(&b, t->header[c]);
        sbuf_adds(&b, "</th>");
    }
    sbuf_adds(&b, "</tr>\n</thead>\n<tbody>\n");
    for (size_t r = 0; r < t->nrows; r++) {
        sbuf_adds(&b, "<tr>");
        for (size_t c = 0; c < t->ncols; c++) {
            double v;
            sbuf_adds(&b, table_number(t, r, c, &v) ? "<td class=\"num\">" : "<td>");
            esc(&b, t->cells[r][c]);
            sbuf_adds(&b, "</td>");
        }
        sbuf_adds(&b, "</tr>\n");
    }
    sbuf_adds(&b, "</tbody>\n</table>");
    return sbuf_take(&b);
}

char *render_exercise_html(const char *exercise_id)
{
    struct sbuf b = {0};

    sbuf_adds(&b, "<div class=\"exercise\" data-exercise=\"");
    esc(&b, exercise_id);
    sbuf_adds(&b, "\"><p>Exercise: use EXERCISE ");
    esc(&b, exercise_id);
    sbuf_adds(&b, "</p></div>");
    return sbuf_take(&b);
}

char *render_trainer_open(const char *task)
{
    struct sbuf b = {0};

    sbuf_adds(&b, "<aside class=\"trainer\" data-task=\"");
    esc(&b, task);
    sbuf_adds(&b, "\">\n<p class=\"trainer-label\">Trainer notes</p>\n");
    return sbuf_take(&b);
}

bool render_url_allowed(const char *url)
{
    static const char *const allowed[] = {"http", "https", "mailto", "ftp"};
    char scheme[16];
    size_t n = 0;

    bool colon = false, long_scheme = false;

    /* Browsers ignore ASCII whitespace and control characters inside a
     * scheme ("java\tscript:"), so skip them while reading it. */
    for (const char *p = url; *p && !colon; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c == 0x7f)
            continue;
        if (c == ':') {
            colon = true;
        } else if (c == '/' || c == '?' || c == '#') {
            return true; /* no scheme: a relative reference */
        } else {
            if (n + 1 >= sizeof(scheme))
                long_scheme = true; /* not a scheme we allow, if a colon follows */
            else
                scheme[n++] = (char)tolower(c);
        }
    }
    if (!colon)
        return true;             /* a relative reference such as 03-next-lesson.md */
    if (long_scheme)
        return false;
    scheme[n] = '\0';
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (strcmp(scheme, allowed[i]) == 0)
            return true;
    return false;
}
