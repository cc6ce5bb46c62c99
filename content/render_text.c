/* render_text.c: terminal text of a lesson, walking cmark's iterator. */
#include "render.h"
#include "catalog.h"
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
    struct sbuf out;            /* the result */
    struct sbuf inl;            /* inline content of the current leaf block */
    struct tt_frame *st;        /* open containers, outermost first */
    size_t depth, cap;
    size_t prefix_width;        /* width of the current prefix */
    int width;
    bool ansi;
    bool need_blank;            /* a blank line before the next block */
    const char *exercise_id;
    char **links;               /* reference targets, numbered from 1 */
    size_t nlinks, linkcap;
    int *link_nums;             /* stack of open links' numbers (0: none) */
    size_t nlink_nums, link_nums_cap;
    int *item_nums;             /* stack of open lists' next item numbers */
    size_t nitem_nums, item_nums_cap;
};

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

/* Word-wraps s (spaces separate words, '\n' forces a break) to the available
 * width and writes the lines. Returns the widest line's width. */
static size_t tt_wrap(struct tt *t, const char *s, size_t n)
{
    size_t avail = tt_avail(t), widest = 0;
    struct sbuf line = {0};
    size_t lw = 0;
    size_t i = 0;
    bool any = false;

    while (i <= n) {
        if (i == n || s[i] == '\n') {
            if (lw || any || i < n)
                tt_line(t, line.data ? line.data : "", line.len);
            widest = lw > widest ? lw : widest;
            line.len = 0;
            if (line.data)
                line.data[0] = '\0';
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
        size_t j = i;
        while (j < n && s[j] != ' ' && s[j] != '\t' && s[j] != '\n')
            j++;
        size_t ww = render_width(s + i, j - i);
        if (lw && ww && lw + 1 + ww > avail) {
            tt_line(t, line.data, line.len);
            widest = lw > widest ? lw : widest;
            line.len = 0;
            lw = 0;
        }
        if (lw && ww) {
            sbuf_addc(&line, ' ');
            lw++;
        }
        sbuf_add(&line, s + i, j - i);
        lw += ww;
        any = true;
        i = j;
    }
    sbuf_free(&line);
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

/* Writes a table with columns padded to their widest cell; columns whose
 * every cell is a number are right-aligned. Tables are never wrapped. */
static void tt_table(struct tt *t, const struct table *tb)
{
    size_t *w = xcalloc(tb->ncols, sizeof(size_t));
    bool *num = xcalloc(tb->ncols, sizeof(bool));
    struct sbuf line = {0};

    for (size_t c = 0; c < tb->ncols; c++) {
        w[c] = render_width(tb->header[c], strlen(tb->header[c]));
        num[c] = tb->nrows > 0;
        for (size_t r = 0; r < tb->nrows; r++) {
            size_t cw = render_width(tb->cells[r][c], strlen(tb->cells[r][c]));
            double v;
            w[c] = cw > w[c] ? cw : w[c];
            if (!table_number(tb, r, c, &v))
                num[c] = false;
        }
    }
    for (size_t r = 0; r <= tb->nrows + 1; r++) {
        line.len = 0;
        for (size_t c = 0; c < tb->ncols; c++) {
            if (c)
                sbuf_adds(&line, "  ");
            if (r == 1) {
                for (size_t k = 0; k < w[c]; k++)
                    sbuf_addc(&line, '-');
                continue;
            }
            const char *cell = r == 0 ? tb->header[c] : tb->cells[r - 2][c];
            size_t pad = w[c] - render_width(cell, strlen(cell));
            if (num[c] && r > 0)
                for (size_t k = 0; k < pad; k++)
                    sbuf_addc(&line, ' ');
            sbuf_adds(&line, cell);
            if (!(num[c] && r > 0))
                for (size_t k = 0; k < pad; k++)
                    sbuf_addc(&line, ' ');
        }
        tt_line(t, line.data ? line.data : "", line.len);
    }
    sbuf_free(&line);
    free(w);
    free(num);
}

/* Writes a code block's lines indented by four spaces, unwrapped. */
static void tt_code(struct tt *t, const char *lit)
{
    size_t n = strlen(lit);
    struct sbuf line = {0};

    if (n && lit[n - 1] == '\n')
        n--;
    for (size_t i = 0; i <= n;) {
        const char *e = memchr(lit + i, '\n', n - i);
        size_t len = e ? (size_t)(e - (lit + i)) : n - i;
        line.len = 0;
        sbuf_adds(&line, "    ");
        sbuf_add(&line, lit + i, len);
        tt_line(t, line.data, line.len);
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
        const struct table *tb = cmark_node_get_user_data(n);
        if (!enter)
            break;
        tt_flush_blank(t);
        if (tb) {
            tt_table(t, tb);
        } else {
            char *s = xasprintf("[Exercise: use EXERCISE %s]",
                                t->exercise_id ? t->exercise_id : "");
            tt_line(t, s, strlen(s)); /* kept whole: the command is copied */
            free(s);
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
        tt_style(t, enter ? ANSI_BOLD : ANSI_NOBOLD);
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

    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE)
        tt_event(&t, ev, cmark_iter_get_node(it));
    cmark_iter_free(it);
    while (t.depth)
        tt_pop(&t);
    if (t.nlinks) {
        if (t.out.len)
            sbuf_addc(&t.out, '\n');
        for (size_t i = 0; i < t.nlinks; i++) {
            sbuf_printf(&t.out, "[%zu] %s\n", i + 1, t.links[i]);
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
    struct tt t = {.width = width, .ansi = ansi, .exercise_id = exercise_id};

    return tt_run(&t, doc);
}
