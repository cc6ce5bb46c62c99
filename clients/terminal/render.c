/* render.c: output for a terminal (aligned columns, colour, bars, a pager)
 * or for a pipe (plain, stable, tab-separated). */
#include "campus.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wchar.h>

static bool out_tty, out_colour;
static locale_t utf8_ctype;     /* when the user's locale is not UTF-8 */
static int out_width = 80, out_rows = 24;

void render_init(void)
{
    const char *nc = getenv("NO_COLOR");
    struct winsize ws;

    /* What the server sends is UTF-8 whatever the locale says: widths are
     * measured as UTF-8 (C.UTF-8 when the locale has another charset). */
    if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0 &&
        (utf8_ctype = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0)) != (locale_t)0)
        uselocale(utf8_ctype);
    out_tty = isatty(STDOUT_FILENO);
    out_colour = out_tty && (nc == NULL || nc[0] == '\0');
    if (out_tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
        out_width = ws.ws_col;
        out_rows = ws.ws_row > 0 ? ws.ws_row : 24;
    } else if (out_tty && getenv("COLUMNS") && atoi(getenv("COLUMNS")) > 0) {
        out_width = atoi(getenv("COLUMNS"));
    }
}

bool render_tty(void)
{
    return out_tty;
}

bool render_colour(void)
{
    return out_colour;
}

int render_width(void)
{
    return out_width;
}

const char *render_sgr(const char *code)
{
    static char buf[4][16];
    static int k;

    if (!out_colour)
        return "";
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof(buf[k]), "\033[%sm", code);
    return buf[k];
}

const char *render_reset(void)
{
    return out_colour ? "\033[0m" : "";
}

/* The character at s (len bytes left): its length in bytes, and in *cols
 * the columns it takes (wcwidth: 2 for wide, 0 for combining marks and
 * controls). A byte that starts no valid UTF-8 sequence is one column. */
static size_t char_next(const char *s, size_t len, size_t *cols)
{
    mbstate_t st;
    wchar_t wc;

    memset(&st, 0, sizeof(st));
    size_t n = mbrtowc(&wc, s, len, &st);
    if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
        *cols = 1;
        return 1;
    }
    int w = wcwidth(wc);
    *cols = w < 0 ? 0 : (size_t)w;
    return n;
}

size_t render_cols(const char *s, size_t len)
{
    size_t n = 0, w;
    for (size_t i = 0; i < len;) {
        if (s[i] == '\033' && i + 1 < len && s[i + 1] == '[') {
            /* our own colour codes take no room */
            i += 2;
            while (i < len && !((unsigned char)s[i] >= 0x40 && (unsigned char)s[i] <= 0x7e))
                i++;
            i += i < len;
            continue;
        }
        i += char_next(s + i, len - i, &w);
        n += w;
    }
    return n;
}

size_t render_cut(const char *s, size_t len, size_t cols, size_t *used)
{
    size_t i = 0, c = 0, w;
    while (i < len) {
        size_t n = char_next(s + i, len - i, &w);
        if (c + w > cols)
            break;
        c += w;
        i += n;                  /* a combining mark stays with its letter */
    }
    if (used)
        *used = c;
    return i;
}

void render_fit(const char *s, size_t cols, size_t pad)
{
    size_t len = strlen(s), used = render_cols(s, len);
    if (used > cols) {
        size_t i = cols ? render_cut(s, len, cols - 1, &used) : 0;
        fwrite(s, 1, i, stdout);
        if (cols) {
            fputs("…", stdout);
            used++;
        }
    } else {
        fputs(s, stdout);
    }
    for (; used < pad; used++)
        putchar(' ');
}

void render_table(const struct resp *r, const char *const *cols, size_t ncols)
{
    struct listing t;

    if (r->body == NULL)
        return;
    if (!out_tty) {
        /* Piped: the server's rows as they are, without the header. */
        const char *nl = memchr(r->body, '\n', r->body_len);
        if (nl)
            fwrite(nl + 1, 1, r->body_len - (size_t)(nl + 1 - r->body), stdout);
        return;
    }
    listing_parse(r->body, r->body_len, &t);
    if (t.nrows == 0) {
        listing_free(&t);
        return;
    }
    int idx[32];
    size_t n = 0;
    if (ncols == 0)
        for (size_t c = 0; c < t.ncells[0] && n < 32; c++)
            idx[n++] = (int)c;
    for (size_t i = 0; i < ncols && n < 32; i++) {
        int c = listing_col(&t, cols[i]);
        if (c >= 0)
            idx[n++] = c;
    }
    size_t width[32] = {0}, total = 0;
    for (size_t row = 0; row < t.nrows; row++)
        for (size_t i = 0; i < n; i++) {
            const char *s = listing_cell(&t, row, idx[i]);
            size_t w = render_cols(s, strlen(s));
            if (w > width[i])
                width[i] = w;
        }
    for (size_t i = 0; i < n; i++)
        total += width[i] + (i + 1 < n ? 2 : 0);
    /* Too wide: the last column (a search's snippet) gives way first and
     * keeps the room that is left, then the widest. */
    while (total > (size_t)out_width && n > 0) {
        size_t widest = n - 1;
        if (width[widest] <= RENDER_COL_MIN + 4)
            for (size_t i = 0; i < n; i++)
                if (width[i] > width[widest])
                    widest = i;
        if (width[widest] <= RENDER_COL_MIN)
            break;
        size_t cut = total - (size_t)out_width;
        size_t can = width[widest] - RENDER_COL_MIN;
        size_t by = cut < can ? cut : can;
        width[widest] -= by;
        total -= by;
    }
    for (size_t row = 0; row < t.nrows; row++) {
        if (row == 0)
            fputs(render_sgr("1"), stdout);
        for (size_t i = 0; i < n; i++)
            render_fit(listing_cell(&t, row, idx[i]), width[i], i + 1 < n ? width[i] + 2 : 0);
        if (row == 0)
            fputs(render_reset(), stdout);
        putchar('\n');
    }
    listing_free(&t);
}

void render_bar(struct sbuf *b, size_t done, size_t total, int width)
{
    size_t full = total ? done * (size_t)width / total : 0;
    sbuf_printf(b, "%s", render_sgr(done == total && total ? "32" : "36"));
    for (int i = 0; i < width; i++)
        sbuf_adds(b, (size_t)i < full ? "#" : "-");
    sbuf_adds(b, render_reset());
}

static size_t count_lines(const char *text, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    return n;
}

void render_page(const char *text, size_t len)
{
    const char *pager = getenv("PAGER");

    fflush(stdout);
    if (!out_tty || count_lines(text, len) < (size_t)out_rows - 1 || (pager && !pager[0])) {
        fwrite(text, 1, len, stdout);
        return;
    }
    if (pager == NULL)
        pager = "less -R";
    if (getenv("LESS") == NULL)
        setenv("LESS", "FRX", 1);
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    FILE *p = popen(pager, "w");
    if (p == NULL) {
        fwrite(text, 1, len, stdout);
        signal(SIGPIPE, old);
        return;
    }
    fwrite(text, 1, len, p);
    pclose(p);
    signal(SIGPIPE, old);
}

void render_error(const struct resp *r)
{
    fprintf(stderr, _("campus: %d %s\n"), r->code, r->text ? r->text : "");
}
