/* markdown_view.c: a lesson's Markdown as a learner may see it: no front
 * matter, no ```gift or ```task fences (they hold answer keys) and no
 * ```trainer fences; and as a trainer sees it (trainer fences kept). */
#include "markdown_view.h"

#include <string.h>

#include "util.h"

/* A fence opener: three or more ` or ~ after up to three spaces. Sets the
 * fence char and length and points *info at the info string. */
static bool fence_open(const char *line, size_t len, char *ch, size_t *n, const char **info)
{
    size_t i = 0;

    while (i < len && i < 3 && line[i] == ' ')
        i++;
    if (i >= len || (line[i] != '`' && line[i] != '~'))
        return false;
    *ch = line[i];
    size_t start = i;
    while (i < len && line[i] == *ch)
        i++;
    *n = i - start;
    if (*n < 3)
        return false;
    while (i < len && line[i] == ' ')
        i++;
    *info = line + i;
    return true;
}

static bool info_is(const char *info, const char *end, const char *word)
{
    size_t w = strlen(word);
    return (size_t)(end - info) >= w && strncmp(info, word, w) == 0 &&
           (info + w == end || info[w] == ' ' || info[w] == '\r' || info[w] == '\n' || info[w] == '\t');
}

static char *view(const char *md, size_t len, const char *placeholder, bool trainer)
{
    struct sbuf out = {0};
    const char *p = md, *end = md + len;

    /* Front matter: "---" on the first line up to the next "---" line. */
    if (len >= 4 && strncmp(md, "---", 3) == 0 && (md[3] == '\n' || md[3] == '\r')) {
        const char *q = memchr(md, '\n', len);
        while (q && q + 1 < end) {
            const char *line = q + 1;
            const char *nl = memchr(line, '\n', (size_t)(end - line));
            size_t ll = nl ? (size_t)(nl - line) : (size_t)(end - line);
            if (ll >= 3 && strncmp(line, "---", 3) == 0 && (ll == 3 || line[3] == '\r')) {
                p = nl ? nl + 1 : end;
                break;
            }
            q = nl;
        }
    }

    bool hiding = false, just_placed = false;
    char fch = 0;
    size_t flen = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        char ch;
        size_t n;
        const char *info;
        if (hiding) {
            if (fence_open(p, ll, &ch, &n, &info) && ch == fch && n >= flen) {
                const char *e = p + ll;
                while (info < e && (*info == ' ' || *info == '\r' || *info == '\n'))
                    info++;
                if (info == e)
                    hiding = false;
            }
        } else if (!trainer && fence_open(p, ll, &ch, &n, &info) &&
                   info_is(info, p + ll, "trainer")) {
            /* Trainer notes: dropped without a trace for learners. */
            hiding = true;
            fch = ch;
            flen = n;
        } else if (fence_open(p, ll, &ch, &n, &info) &&
                   (info_is(info, p + ll, "gift") || info_is(info, p + ll, "task"))) {
            hiding = true;
            fch = ch;
            flen = n;
            if (placeholder && !just_placed) {   /* one line per run of blocks */
                sbuf_adds(&out, placeholder);
                sbuf_addc(&out, '\n');
                just_placed = true;
            }
        } else {
            bool blank = true;
            for (size_t i = 0; i < ll; i++)
                if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
                    blank = false;
            if (!blank)
                just_placed = false;
            if (!blank || !just_placed)
                sbuf_add(&out, p, ll);
        }
        p += ll;
    }
    return sbuf_take(&out);
}

char *markdown_learner_view(const char *md, size_t len, const char *placeholder)
{
    return view(md, len, placeholder, false);
}

char *markdown_trainer_view(const char *md, size_t len, const char *placeholder)
{
    return view(md, len, placeholder, true);
}
