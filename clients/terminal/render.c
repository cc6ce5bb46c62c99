/* render.c: output for a terminal (aligned columns, colour, bars, a pager)
 * or for a pipe (plain, stable, tab-separated). */
#include "campus.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

static bool out_tty, out_colour;
static int out_width = 80, out_rows = 24;

void render_init(void)
{
    const char *nc = getenv("NO_COLOR");
    struct winsize ws;

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

size_t render_cols(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    return n;
}

/* Writes s cut to at most cols columns (ending in "…" when cut), padded
 * with spaces to pad columns. */
static void put_cell(const char *s, size_t cols, size_t pad)
{
    size_t len = strlen(s), used = render_cols(s, len);
    if (used > cols) {
        size_t i = 0, c = 0;
        while (i < len && c + 1 < cols) {
            i++;
            while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
                i++;
            c++;
        }
        fwrite(s, 1, i, stdout);
        fputs("…", stdout);
        used = c + 1;
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
    /* Too wide: the last column gives way first, then the widest. */
    while (total > (size_t)out_width && n > 0) {
        size_t widest = n - 1;
        if (width[widest] <= 12)
            for (size_t i = 0; i < n; i++)
                if (width[i] > width[widest])
                    widest = i;
        if (width[widest] <= 8)
            break;
        size_t cut = total - (size_t)out_width;
        size_t can = width[widest] - 8;
        size_t by = cut < can ? cut : can;
        width[widest] -= by;
        total -= by;
    }
    for (size_t row = 0; row < t.nrows; row++) {
        if (row == 0)
            fputs(render_sgr("1"), stdout);
        for (size_t i = 0; i < n; i++)
            put_cell(listing_cell(&t, row, idx[i]), width[i], i + 1 < n ? width[i] + 2 : 0);
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
    fprintf(stderr, "campus: %d %s\n", r->code, r->text ? r->text : "");
}
