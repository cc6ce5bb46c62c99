/* render_text.c: terminal text of a lesson, walking cmark's iterator. */
#include "render.h"
#include "catalog.h"
#include "msg.h"
#include "util.h"

#include <cmark.h>
#include <stdlib.h>
#include <string.h>

#define ANSI_BOLD "\033[1m"
#define ANSI_NOBOLD "\033[22m"
#define ANSI_ITALIC "\033[3m"
#define ANSI_NOITALIC "\033[23m"
#define ANSI_UNDERLINE "\033[4m"
#define ANSI_NOUNDERLINE "\033[24m"

/* Narrowest column left for text however deep the nesting goes. */
#define TEXT_MIN_AVAIL 10

/* One open container (block quote or list item): the prefix of its first
 * line and of every following line. */
struct tt_frame {
    char *first;
    char *rest;
    bool used;                  /* first line already written */
};

/* The state of one rendering. */
struct tt {
    const char *lang;           /* the words the renderer adds, in it (msg.h) */
    struct sbuf out;            /* the result */
    struct sbuf inl;            /* inline content of the current leaf block */
    struct tt_frame *st;        /* open containers, outermost first */
    size_t depth, cap;
    size_t prefix_width;        /* width of the current prefix */
    int width;
    bool ansi;
    bool need_blank;            /* a blank line before the next block */
    const char *exercise_id;
    bool in_exercise;           /* no exercise placeholder */
    const char *title;          /* leave out a first level-1 heading saying this */
    bool skipping;              /* inside that heading */
    void (*visit)(void *arg, int ev, struct cmark_node *n); /* render_text_opts' */
    void *visit_arg;
    char **links;               /* reference targets, numbered from 1 */
    size_t nlinks, linkcap;
    int *link_nums;             /* stack of open links' numbers (0: none) */
    size_t nlink_nums, link_nums_cap;
    int *item_nums;             /* stack of open lists' next item numbers */
    size_t nitem_nums, item_nums_cap;
};

static bool is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

size_t render_width(const char *s, size_t n)
{
    size_t w = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0x1b && i + 1 < n && s[i + 1] == '[') {
            i += 2;
            while (i < n && !((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
                i++;
            continue;
        }
        if ((c & 0xC0) != 0x80)
            w++;
    }
    return w;
}

static void tt_push(struct tt *t, const char *first, const char *rest)
{
    if (t->depth == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->st = xrealloc(t->st, t->cap * sizeof(*t->st));
    }
    t->st[t->depth++] = (struct tt_frame){xstrdup(first), xstrdup(rest), false};
    t->prefix_width += render_width(rest, strlen(rest));
}

static void tt_pop(struct tt *t)
{
    struct tt_frame *f = &t->st[--t->depth];

    t->prefix_width -= render_width(f->rest, strlen(f->rest));
    free(f->first);
    free(f->rest);
}

/* Removes trailing spaces of the output's last line. */
static void tt_rstrip(struct tt *t)
{
    while (t->out.len && t->out.data[t->out.len - 1] == ' ')
        t->out.data[--t->out.len] = '\0';
}

/* Writes the prefix of a content line, using (and marking) the first-line
 * prefix of containers that have not written a line yet. */
static void tt_prefix(struct tt *t)
{
    for (size_t i = 0; i < t->depth; i++) {
        struct tt_frame *f = &t->st[i];
        sbuf_adds(&t->out, f->used ? f->rest : f->first);
        f->used = true;
    }
}

/* Writes a pending blank line (with the prefixes of the open containers). */
static void tt_flush_blank(struct tt *t)
{
    if (!t->need_blank || t->out.len == 0) {
        t->need_blank = false;
        return;
    }
    for (size_t i = 0; i < t->depth; i++)
        sbuf_adds(&t->out, t->st[i].rest);
    tt_rstrip(t);
    sbuf_addc(&t->out, '\n');
    t->need_blank = false;
}

/* Writes one content line: prefix, the n bytes, newline. */
static void tt_line(struct tt *t, const char *s, size_t n)
{
    tt_prefix(t);
    sbuf_add(&t->out, s, n);
    tt_rstrip(t);
    sbuf_addc(&t->out, '\n');
}

static size_t tt_avail(const struct tt *t)
{
    size_t w = (size_t)t->width;
    return w > t->prefix_width + TEXT_MIN_AVAIL ? w - t->prefix_width : TEXT_MIN_AVAIL;
}

/* The bytes of s (n of them) that fill at most w display columns, at least
 * one code point; an ANSI sequence is never cut. */
static size_t tt_cut(const char *s, size_t n, size_t w)
{
    size_t i = 0, cols = 0;

    while (i < n) {
        if (s[i] == 0x1b && i + 1 < n && s[i + 1] == '[') {
            size_t j = i + 2;
            while (j < n && !((s[j] >= 'A' && s[j] <= 'Z') || (s[j] >= 'a' && s[j] <= 'z')))
                j++;
            i = j < n ? j + 1 : n;
            continue;
        }
        if (cols == w && cols > 0)
            break;
        size_t j = i + 1;
        while (j < n && ((unsigned char)s[j] & 0xC0) == 0x80)
            j++;
        i = j;
        cols++;
    }
    return i;
}

/* What a byte is to tt_wrap's word scan: a character that counts one
 * column, a UTF-8 continuation byte (none), the start of an escape
 * sequence (none while it lasts), or the end of the word. */
enum { WRAP_CHAR, WRAP_CONT, WRAP_ESC, WRAP_END };
static const unsigned char wrap_class[256] = {
    [0x80 ... 0xBF] = WRAP_CONT,        /* the others: WRAP_CHAR (0) */
    [' '] = WRAP_END, ['\t'] = WRAP_END, ['\n'] = WRAP_END,
    [0x1b] = WRAP_ESC,
};

/* sbuf_add and sbuf_addc for tt_wrap's words: inline while there is room
 * (tt_wrap reserves it), which is nearly always. */
static inline void out_add(struct sbuf *b, const char *s, size_t k)
{
    if (b->len + k + 1 <= b->cap) {
        memcpy(b->data + b->len, s, k);
        b->len += k;
        b->data[b->len] = '\0';
    } else {
        sbuf_add(b, s, k);
    }
}

static inline void out_addc(struct sbuf *b, char c)
{
    if (b->len + 2 <= b->cap) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
    } else {
        sbuf_addc(b, c);
    }
}

/* Word-wraps s (spaces separate words, '\n' forces a break) to the available
 * width and writes the lines; a word wider than the line is cut. Returns the
 * widest line's width. Each line goes straight to the output: its prefix
 * when its first word comes (or when it ends empty), as tt_line writes it. */
static size_t tt_wrap(struct tt *t, const char *s, size_t n)
{
    size_t avail = tt_avail(t), widest = 0;
    size_t lw = 0;              /* width of the line being written */
    bool open = false;          /* its prefix is written */
    size_t i = 0;
    bool any = false;

    /* Room for the words and their spaces, and some lines' prefixes. */
    sbuf_reserve(&t->out, n + 64);

#define LINE_OPEN()                                                                               \
    do {                                                                                          \
        if (!open) {                                                                              \
            tt_prefix(t);                                                                         \
            open = true;                                                                          \
        }                                                                                         \
    } while (0)
#define LINE_END()                                                                                \
    do {                                                                                          \
        LINE_OPEN();                                                                              \
        tt_rstrip(t);                                                                             \
        out_addc(&t->out, '\n');                                                                  \
        open = false;                                                                             \
        widest = lw > widest ? lw : widest;                                                       \
        lw = 0;                                                                                   \
    } while (0)

    while (i <= n) {
        if (i == n || s[i] == '\n') {
            if (lw || any || i < n)
                LINE_END();
            widest = lw > widest ? lw : widest;
            lw = 0;
            any = false;
            i++;
            if (i > n)
                break;
            continue;
        }
        if (s[i] == ' ' || s[i] == '\t') {
            i++;
            continue;
        }
        /* The word and its width (as render_width counts it) in one pass. */
        size_t j = i, ww = 0;
        while (j < n) {
            unsigned char k = wrap_class[(unsigned char)s[j]];
            if (k == WRAP_END)
                break;
            if (k == WRAP_ESC && j + 1 < n && s[j + 1] == '[') {
                j += 2;
                while (j < n && !is_alpha(s[j]) && s[j] != ' ' && s[j] != '\t' && s[j] != '\n')
                    j++;
                if (j < n && is_alpha(s[j]))
                    j++;
                continue;
            }
            ww += k != WRAP_CONT;
            j++;
        }
        if (ww > avail) {
            /* Too wide for any line: cut it to what is left of this one. */
            if (lw && lw + 2 > avail)
                LINE_END();
            if (lw) {
                out_addc(&t->out, ' ');
                lw++;
            }
            size_t k = tt_cut(s + i, j - i, avail - lw);
            LINE_OPEN();
            sbuf_add(&t->out, s + i, k);
            lw += render_width(s + i, k);
            LINE_END();
            any = false;
            i += k;
            continue;
        }
        if (lw && ww && lw + 1 + ww > avail)
            LINE_END();
        if (lw && ww) {
            out_addc(&t->out, ' ');
            lw++;
        }
        LINE_OPEN();
        out_add(&t->out, s + i, j - i);
        lw += ww;
        any = true;
        i = j;
    }
#undef LINE_OPEN
#undef LINE_END
    return widest;
}

/* True when the block's paragraphs sit in a tight list item. */
static bool in_tight_item(cmark_node *n)
{
    cmark_node *p = cmark_node_parent(n);

    if (p == NULL || cmark_node_get_type(p) != CMARK_NODE_ITEM)
        return false;
    p = cmark_node_parent(p);
    return p && cmark_node_get_list_tight(p);
}

static void tt_block_end(struct tt *t, cmark_node *n)
{
    t->need_blank = !in_tight_item(n);
}

static void tt_style(struct tt *t, const char *code)
{
    if (t->ansi)
        sbuf_adds(&t->inl, code);
}

/* Returns the reference number for a link target (1-based), adding it. */
static int tt_link_number(struct tt *t, const char *target)
{
    for (size_t i = 0; i < t->nlinks; i++)
        if (strcmp(t->links[i], target) == 0)
            return (int)i + 1;
    if (t->nlinks == t->linkcap) {
        t->linkcap = t->linkcap ? t->linkcap * 2 : 8;
        t->links = xrealloc(t->links, t->linkcap * sizeof(*t->links));
    }
    t->links[t->nlinks++] = xstrdup(target);
    return (int)t->nlinks;
}

/* Decides how a link or image is referenced: 0 for no reference (disallowed
 * or empty target, or an autolink whose text already shows it). */
static int tt_link_enter(struct tt *t, cmark_node *n)
{
    const char *url = cmark_node_get_url(n);
    size_t plen = strlen(CATALOG_LESSON_HREF);

    if (url == NULL || *url == '\0' || !render_url_allowed(url))
        return 0;
    if (strncmp(url, CATALOG_LESSON_HREF, plen) == 0)
        return tt_link_number(t, url + plen);
    cmark_node *c = cmark_node_first_child(n);
    if (c && cmark_node_next(c) == NULL && cmark_node_get_type(c) == CMARK_NODE_TEXT &&
        cmark_node_get_type(n) == CMARK_NODE_LINK) {
        const char *lit = cmark_node_get_literal(c);
        if (lit && (strcmp(lit, url) == 0 ||
                    (strncmp(url, "mailto:", 7) == 0 && strcmp(lit, url + 7) == 0)))
            return 0;
    }
    return tt_link_number(t, url);
}

static void tt_link_push(struct tt *t, int num)
{
    if (t->nlink_nums == t->link_nums_cap) {
        t->link_nums_cap = t->link_nums_cap ? t->link_nums_cap * 2 : 8;
        t->link_nums = xrealloc(t->link_nums, t->link_nums_cap * sizeof(int));
    }
    t->link_nums[t->nlink_nums++] = num;
}

static int tt_link_pop(struct tt *t)
{
    return t->nlink_nums ? t->link_nums[--t->nlink_nums] : 0;
}

/* A column's label: the labels: line's, else the header with '_' as ' '. */
static char *tt_label(const struct table *tb, size_t c)
{
    if (tb->labels && tb->labels[c])
        return xstrdup(tb->labels[c]);
    char *l = xstrdup(tb->header[c]);
    for (char *p = l; *p; p++)
        if (*p == '_')
            *p = ' ';
    return l;
}

/* Splits s into lines of at most w columns (words wrapped, long words cut):
 * appends each line to *v (a growing array of owned strings). */
static void tt_split(const char *s, size_t w, char ***v, size_t *n)
{
    size_t len = strlen(s), i = 0;
    struct sbuf line = {0};
    size_t lw = 0;

    while (i < len) {
        if (s[i] == ' ') {
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && s[j] != ' ')
            j++;
        size_t ww = render_width(s + i, j - i);
        if (lw && lw + 1 + ww > w) {
            *v = xrealloc(*v, (*n + 1) * sizeof(**v));
            (*v)[(*n)++] = sbuf_take(&line);
            lw = 0;
        }
        if (ww > w - (lw ? lw + 1 : 0)) {
            if (lw) {
                *v = xrealloc(*v, (*n + 1) * sizeof(**v));
                (*v)[(*n)++] = sbuf_take(&line);
                lw = 0;
            }
            size_t k = tt_cut(s + i, j - i, w);
            sbuf_add(&line, s + i, k);
            *v = xrealloc(*v, (*n + 1) * sizeof(**v));
            (*v)[(*n)++] = sbuf_take(&line);
            i += k;
            continue;
        }
        if (lw) {
            sbuf_addc(&line, ' ');
            lw++;
        }
        sbuf_add(&line, s + i, j - i);
        lw += ww;
        i = j;
    }
    if (lw || *n == 0) {
        *v = xrealloc(*v, (*n + 1) * sizeof(**v));
        (*v)[(*n)++] = line.data ? sbuf_take(&line) : xstrdup("");
    } else {
        sbuf_free(&line);
    }
}

static void tt_free_lines(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Longest word a table column is kept wide enough for; past it a word is cut. */
#define TEXT_TABLE_WORD_MAX 16

/* Writes one table row, its cells wrapped into the column widths w. */
static void tt_table_row(struct tt *t, const struct table *tb, char **cells, const size_t *w,
                         const bool *num)
{
    char ***lines = xcalloc(tb->ncols, sizeof(*lines));
    size_t *nl = xcalloc(tb->ncols, sizeof(*nl)), rows = 0;
    struct sbuf line = {0};

    for (size_t c = 0; c < tb->ncols; c++) {
        tt_split(cells[c], w[c], &lines[c], &nl[c]);
        rows = nl[c] > rows ? nl[c] : rows;
    }
    for (size_t r = 0; r < rows; r++) {
        line.len = 0;
        for (size_t c = 0; c < tb->ncols; c++) {
            const char *cell = r < nl[c] ? lines[c][r] : "";
            size_t pad = w[c] - render_width(cell, strlen(cell));
            if (c)
                sbuf_adds(&line, "  ");
            if (num && num[c])
                for (size_t k = 0; k < pad; k++)
                    sbuf_addc(&line, ' ');
            sbuf_adds(&line, cell);
            if (!(num && num[c]))
                for (size_t k = 0; k < pad; k++)
                    sbuf_addc(&line, ' ');
        }
        tt_line(t, line.data ? line.data : "", line.len);
    }
    for (size_t c = 0; c < tb->ncols; c++)
        tt_free_lines(lines[c], nl[c]);
    free(lines);
    free(nl);
    sbuf_free(&line);
}

/* Too narrow for columns: one block per record, "Label: value" lines. */
static void tt_table_records(struct tt *t, const struct table *tb, char **labels)
{
    for (size_t r = 0; r < tb->nrows; r++) {
        if (r)
            tt_line(t, "", 0);
        for (size_t c = 0; c < tb->ncols; c++) {
            char *s = t->ansi ? xasprintf(ANSI_BOLD "%s:" ANSI_NOBOLD " %s", labels[c],
                                          tb->cells[r][c])
                              : xasprintf("%s: %s", labels[c], tb->cells[r][c]);
            tt_push(t, "", "  ");    /* a value's further lines hang under it */
            tt_wrap(t, s, strlen(s));
            tt_pop(t);
            free(s);
        }
    }
}

/* Writes a table under its labels with columns padded to their widest cell;
 * columns whose every cell is a number are right-aligned. When the natural
 * widths do not fit, columns are narrowed (never below their longest word)
 * and their cells wrapped; when even that does not fit, each record is
 * written as a block of its own, one "Label: value" line per column. */
/* Display width of the longest word (space-separated) of s. */
static size_t longest_word(const char *s)
{
    size_t best = 0;

    while (*s) {
        size_t n = strcspn(s, " ");
        size_t w = render_width(s, n);
        best = w > best ? w : best;
        s += n;
        s += strspn(s, " ");
    }
    return best;
}

static void tt_table(struct tt *t, const struct table *tb)
{
    size_t *w = xcalloc(tb->ncols, sizeof(size_t));
    size_t *minw = xcalloc(tb->ncols, sizeof(size_t));
    bool *num = xcalloc(tb->ncols, sizeof(bool));
    char **labels = xcalloc(tb->ncols, sizeof(char *));
    size_t avail = tt_avail(t), total = 2 * (tb->ncols - 1), floor = total;

    for (size_t c = 0; c < tb->ncols; c++) {
        labels[c] = tt_label(tb, c);
        w[c] = render_width(labels[c], strlen(labels[c]));
        minw[c] = longest_word(labels[c]);
        num[c] = tb->nrows > 0;
        for (size_t r = 0; r < tb->nrows; r++) {
            size_t cw = render_width(tb->cells[r][c], strlen(tb->cells[r][c]));
            size_t lw = longest_word(tb->cells[r][c]);
            double v;
            w[c] = cw > w[c] ? cw : w[c];
            minw[c] = lw > minw[c] ? lw : minw[c];
            if (!table_number(tb, r, c, &v))
                num[c] = false;
        }
        /* A column is narrowed no further than its longest word, so that
         * words stay whole; a very long word (a URL) may still be cut. */
        if (minw[c] > TEXT_TABLE_WORD_MAX)
            minw[c] = TEXT_TABLE_WORD_MAX;
        if (minw[c] > w[c])
            minw[c] = w[c];
        total += w[c];
        floor += minw[c];
    }
    if (floor > avail) {
        tt_table_records(t, tb, labels);
    } else {
        while (total > avail) {
            /* Narrow the column with the most room above its floor. */
            size_t widest = 0;
            for (size_t c = 1; c < tb->ncols; c++)
                if (w[c] - minw[c] > w[widest] - minw[widest])
                    widest = c;
            w[widest]--;
            total--;
        }
        tt_table_row(t, tb, labels, w, NULL);
        struct sbuf line = {0};
        for (size_t c = 0; c < tb->ncols; c++) {
            if (c)
                sbuf_adds(&line, "  ");
            for (size_t k = 0; k < w[c]; k++)
                sbuf_addc(&line, '-');
        }
        tt_line(t, line.data ? line.data : "", line.len);
        sbuf_free(&line);
        for (size_t r = 0; r < tb->nrows; r++)
            tt_table_row(t, tb, tb->cells[r], w, num);
    }
    for (size_t c = 0; c < tb->ncols; c++)
        free(labels[c]);
    free(labels);
    free(w);
    free(minw);
    free(num);
}

/* Writes a code block's lines indented by four spaces; a line wider than
 * the width is cut and goes on, indented the same, on the next. */
static void tt_code(struct tt *t, const char *lit)
{
    size_t n = strlen(lit);
    struct sbuf line = {0};

    if (n && lit[n - 1] == '\n')
        n--;
    for (size_t i = 0; i <= n;) {
        const char *e = memchr(lit + i, '\n', n - i);
        size_t len = e ? (size_t)(e - (lit + i)) : n - i;
        size_t room = tt_avail(t) > 4 ? tt_avail(t) - 4 : 1, done = 0;
        do {
            size_t k = tt_cut(lit + i + done, len - done, room);
            line.len = 0;
            sbuf_adds(&line, "    ");
            sbuf_add(&line, lit + i + done, k);
            tt_line(t, line.data, line.len);
            done += k;
        } while (done < len);
        i += len + 1;
    }
    sbuf_free(&line);
}

/* Writes the inline buffer of a heading with its underline or marks. */
static void tt_heading(struct tt *t, cmark_node *n)
{
    int level = cmark_node_get_heading_level(n);
    struct sbuf s = {0};

    if (level >= 3) {
        for (int i = 0; i < level; i++)
            sbuf_addc(&s, '#');
        sbuf_addc(&s, ' ');
    }
    if (t->ansi)
        sbuf_adds(&s, ANSI_BOLD);
    sbuf_add(&s, t->inl.data ? t->inl.data : "", t->inl.len);
    if (t->ansi)
        sbuf_adds(&s, ANSI_NOBOLD);
    size_t widest = tt_wrap(t, s.data, s.len);
    if (level <= 2) {
        s.len = 0;
        for (size_t i = 0; i < (widest ? widest : 1); i++)
            sbuf_addc(&s, level == 1 ? '=' : '-');
        tt_line(t, s.data, s.len);
    }
    sbuf_free(&s);
}

/* True when the heading's text (its text and code nodes, spaces between
 * soft breaks) is title. */
static bool heading_is(cmark_node *h, const char *title)
{
    struct sbuf b = {0};
    cmark_iter *it = cmark_iter_new(h);
    cmark_event_type ev;

    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        cmark_node_type ty = cmark_node_get_type(n);
        if (ev != CMARK_EVENT_ENTER)
            continue;
        if (ty == CMARK_NODE_TEXT || ty == CMARK_NODE_CODE)
            sbuf_adds(&b, cmark_node_get_literal(n) ? cmark_node_get_literal(n) : "");
        else if (ty == CMARK_NODE_SOFTBREAK || ty == CMARK_NODE_LINEBREAK)
            sbuf_addc(&b, ' ');
    }
    cmark_iter_free(it);
    bool same = b.data && strcmp(b.data, title) == 0;
    sbuf_free(&b);
    return same;
}

/* Handles one iterator event. */
static void tt_event(struct tt *t, cmark_event_type ev, cmark_node *n)
{
    bool enter = ev == CMARK_EVENT_ENTER;
    cmark_node_type type = cmark_node_get_type(n);

    switch (type) {
    case CMARK_NODE_DOCUMENT:
        break;
    case CMARK_NODE_BLOCK_QUOTE:
        if (enter) {
            tt_flush_blank(t);
            tt_push(t, "> ", "> ");
        } else {
            tt_pop(t);
            tt_block_end(t, n);
        }
        break;
    case CMARK_NODE_LIST:
        if (enter) {
            tt_flush_blank(t);
            if (t->nitem_nums == t->item_nums_cap) {
                t->item_nums_cap = t->item_nums_cap ? t->item_nums_cap * 2 : 8;
                t->item_nums = xrealloc(t->item_nums, t->item_nums_cap * sizeof(int));
            }
            t->item_nums[t->nitem_nums++] = cmark_node_get_list_start(n);
        } else {
            t->nitem_nums--;
            tt_block_end(t, n);
        }
        break;
    case CMARK_NODE_ITEM:
        if (enter) {
            cmark_node *list = cmark_node_parent(n);
            char marker[32];
            if (cmark_node_get_list_type(list) == CMARK_ORDERED_LIST) {
                int num = t->item_nums[t->nitem_nums - 1]++;
                snprintf(marker, sizeof(marker), "%d%c ", num,
                         cmark_node_get_list_delim(list) == CMARK_PAREN_DELIM ? ')' : '.');
            } else {
                snprintf(marker, sizeof(marker), "* ");
            }
            char spaces[32];
            size_t ml = strlen(marker);
            memset(spaces, ' ', ml);
            spaces[ml] = '\0';
            tt_flush_blank(t);
            tt_push(t, marker, spaces);
        } else {
            if (!t->st[t->depth - 1].used)
                tt_line(t, "", 0); /* an empty item still shows its marker */
            tt_pop(t);
        }
        break;
    case CMARK_NODE_PARAGRAPH:
    case CMARK_NODE_HEADING:
        if (t->title && type == CMARK_NODE_HEADING && cmark_node_get_heading_level(n) == 1 &&
            cmark_node_previous(n) == NULL && cmark_node_parent(n) != NULL &&
            cmark_node_get_type(cmark_node_parent(n)) == CMARK_NODE_DOCUMENT &&
            heading_is(n, t->title)) {
            /* The reader shows the lesson's title already. */
            t->skipping = enter;
            break;
        }
        if (enter) {
            tt_flush_blank(t);
            t->inl.len = 0;
            if (t->inl.data)
                t->inl.data[0] = '\0';
        } else {
            if (type == CMARK_NODE_HEADING)
                tt_heading(t, n);
            else
                tt_wrap(t, t->inl.data ? t->inl.data : "", t->inl.len);
            tt_block_end(t, n);
        }
        break;
    case CMARK_NODE_CODE_BLOCK:
        tt_flush_blank(t);
        tt_code(t, cmark_node_get_literal(n));
        tt_block_end(t, n);
        break;
    case CMARK_NODE_THEMATIC_BREAK: {
        size_t w = tt_avail(t);
        char *line = xmalloc(w + 1);
        memset(line, '-', w);
        tt_flush_blank(t);
        tt_line(t, line, w);
        free(line);
        tt_block_end(t, n);
        break;
    }
    case CMARK_NODE_CUSTOM_BLOCK: {
        const char *close = cmark_node_get_on_exit(n);
        if (close && strcmp(close, RENDER_TRAINER_CLOSE) == 0) {
            /* Trainer notes: a marked heading, then the notes behind "| ". */
            const char *task = cmark_node_get_user_data(n);
            if (enter) {
                tt_flush_blank(t);
                char *s = task && *task ? xasprintf("[Trainer notes: %s]", task)
                                        : xstrdup("[Trainer notes]");
                if (t->ansi) {
                    char *b = xasprintf(ANSI_BOLD "%s" ANSI_NOBOLD, s);
                    free(s);
                    s = b;
                }
                tt_wrap(t, s, strlen(s));
                free(s);
                tt_push(t, "| ", "| ");
            } else {
                tt_pop(t);
                t->need_blank = true;
            }
            break;
        }
        const struct table *tb = cmark_node_get_user_data(n);
        if (!enter)
            break;
        if (tb) {
            tt_flush_blank(t);
            tt_table(t, tb);
        } else if (!t->in_exercise) {
            tt_flush_blank(t);
            char *s = xasprintf(content_msg(t->lang, "[Exercise: use EXERCISE %s]"),
                                t->exercise_id ? t->exercise_id : "");
            tt_wrap(t, s, strlen(s));
            free(s);
        } else {
            break;               /* read above the exercise itself: nothing to point at */
        }
        tt_block_end(t, n);
        break;
    }
    case CMARK_NODE_HTML_BLOCK:
    case CMARK_NODE_HTML_INLINE:
    case CMARK_NODE_CUSTOM_INLINE:
        break; /* raw HTML never reaches learners */
    case CMARK_NODE_TEXT: {
        const char *lit = cmark_node_get_literal(n);
        sbuf_adds(&t->inl, lit ? lit : "");
        break;
    }
    case CMARK_NODE_SOFTBREAK:
        sbuf_addc(&t->inl, ' ');
        break;
    case CMARK_NODE_LINEBREAK:
        sbuf_addc(&t->inl, '\n');
        break;
    case CMARK_NODE_CODE: {
        const char *lit = cmark_node_get_literal(n);
        sbuf_addc(&t->inl, '`');
        sbuf_adds(&t->inl, lit ? lit : "");
        sbuf_addc(&t->inl, '`');
        break;
    }
    case CMARK_NODE_EMPH:
        tt_style(t, enter ? ANSI_ITALIC : ANSI_NOITALIC);
        break;
    case CMARK_NODE_STRONG:
        if (t->ansi)
            tt_style(t, enter ? ANSI_BOLD : ANSI_NOBOLD);
        else
            sbuf_addc(&t->inl, '*');  /* plain text: *term*, as in e-mail */
        break;
    case CMARK_NODE_LINK:
    case CMARK_NODE_IMAGE:
        if (enter) {
            tt_link_push(t, tt_link_enter(t, n));
            if (type == CMARK_NODE_IMAGE)
                sbuf_adds(&t->inl, "[image: ");
            else
                tt_style(t, ANSI_UNDERLINE);
        } else {
            int num = tt_link_pop(t);
            if (type == CMARK_NODE_IMAGE)
                sbuf_addc(&t->inl, ']');
            else
                tt_style(t, ANSI_NOUNDERLINE);
            if (num)
                sbuf_printf(&t->inl, "[%d]", num);
        }
        break;
    default:
        break;
    }
}

/* Walks the document with the renderer state t and returns the text. */
static char *tt_run(struct tt *tp, struct cmark_node *doc)
{
    struct tt t = *tp;
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;

    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        if (tp->visit)
            tp->visit(tp->visit_arg, ev, n);
        if (t.skipping && cmark_node_get_type(n) != CMARK_NODE_HEADING)
            continue;
        tt_event(&t, ev, n);
    }
    cmark_iter_free(it);
    while (t.depth)
        tt_pop(&t);
    if (t.nlinks) {
        if (t.out.len)
            sbuf_addc(&t.out, '\n');
        size_t fl = strlen(CATALOG_FILE_HREF);
        for (size_t i = 0; i < t.nlinks; i++) {
            char *s = strncmp(t.links[i], CATALOG_FILE_HREF, fl) == 0
                          ? xasprintf(content_msg(t.lang, "[%zu] file %s"), i + 1, t.links[i] + fl)
                          : xasprintf("[%zu] %s", i + 1, t.links[i]);
            tt_wrap(&t, s, strlen(s));
            free(s);
            free(t.links[i]);
        }
    }
    free(t.links);
    free(t.link_nums);
    free(t.item_nums);
    free(t.st);
    sbuf_free(&t.inl);
    return sbuf_take(&t.out);
}

char *render_text(struct cmark_node *doc, const char *exercise_id, int width, bool ansi)
{
    struct render_text_opts o = {.width = width, .ansi = ansi, .exercise_id = exercise_id};

    return render_text_opts(doc, &o);
}

char *render_text_opts(struct cmark_node *doc, const struct render_text_opts *o)
{
    struct tt t = {.width = o->width, .ansi = o->ansi, .exercise_id = o->exercise_id,
                   .in_exercise = o->in_exercise, .title = o->title, .lang = o->lang,
                   .visit = o->visit, .visit_arg = o->visit_arg};

    return tt_run(&t, doc);
}
