/* test_content_render.c: HTML and terminal renderings of lessons. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "catalog.h"
#include "render.h"
#include "util.h"

#define GOOD FIXTURES_DIR "/courses-good"
#define GOLDEN FIXTURES_DIR "/golden"

/* Compares got with the golden file byte for byte; with UPDATE_GOLDEN=1 in
 * the environment, rewrites the golden file instead. */
static void golden(const char *name, const char *got)
{
    char *path = xasprintf("%s/%s", GOLDEN, name);
    const char *update = getenv("UPDATE_GOLDEN");

    if (update && strcmp(update, "1") == 0) {
        FILE *f = fopen(path, "wb");
        cr_assert_not_null(f, "cannot write %s", path);
        fputs(got, f);
        fclose(f);
        free(path);
        return;
    }
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "missing golden file %s (run with UPDATE_GOLDEN=1)", path);
    struct sbuf b = {0};
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        sbuf_add(&b, buf, n);
    fclose(f);
    cr_assert_str_eq(got, b.data ? b.data : "", "%s differs from the rendering", name);
    sbuf_free(&b);
    free(path);
}

static struct catalog *good;

static void load_good(void)
{
    struct diag_list d = {0};
    good = catalog_load(GOOD, &d);
    cr_assert_not_null(good);
    diag_list_clear(&d);
}

static void unload_good(void)
{
    catalog_unref(good);
}

/* Loads one lesson from memory; fails the test on any error. */
static struct catalog *mem(const char *body)
{
    struct diag_list d = {0};
    char *src = xasprintf("---\ntitle: T\nminutes: 1\n---\n\n%s", body);
    struct catalog *cat = catalog_load_memory(src, strlen(src), &d);

    cr_assert_not_null(cat, "%s", d.count ? d.items[0].msg : "no catalogue");
    diag_list_clear(&d);
    free(src);
    return cat;
}

static const struct lesson *mem_lesson(struct catalog *cat)
{
    return catalog_lesson(cat, "memory/lesson");
}

TestSuite(golden, .init = load_good, .fini = unload_good);

Test(golden, welcome)
{
    const struct lesson *l = catalog_lesson(good, "demo/welcome");
    char *narrow = catalog_lesson_text(l, 40, true);

    golden("welcome.html", l->html);
    golden("welcome.txt", l->text);
    golden("welcome-40-ansi.txt", narrow);
    free(narrow);
}

Test(golden, lists)
{
    const struct lesson *l = catalog_lesson(good, "demo/lists");
    char *narrow = catalog_lesson_text(l, 30, false);

    golden("lists.html", l->html);
    golden("lists.txt", l->text);
    golden("lists-30.txt", narrow);
    free(narrow);
}

Test(golden, market)
{
    const struct lesson *l = catalog_lesson(good, "demo/market");

    golden("market.html", l->html);
    golden("market.txt", l->text);
}

Test(golden, text_at_default_width_equals_the_stored_text)
{
    const struct lesson *l = catalog_lesson(good, "demo/welcome");
    char *t = catalog_lesson_text(l, CATALOG_TEXT_WIDTH, false);

    cr_assert_str_eq(t, l->text);
    free(t);
}

Test(render, raw_html_never_passes_through)
{
    struct catalog *cat = mem("<script>alert(1)</script>\n\nText <img src=x onerror=alert(2)> "
                              "and <b>bold</b>.\n\n<div onclick=\"x()\">\nblock\n</div>\n");
    const struct lesson *l = mem_lesson(cat);

    cr_assert_null(strstr(l->html, "<script"), "%s", l->html);
    cr_assert_null(strstr(l->html, "onerror"), "%s", l->html);
    cr_assert_null(strstr(l->html, "<b>"), "%s", l->html);
    cr_assert_null(strstr(l->html, "onclick"), "%s", l->html);
    cr_assert_not_null(strstr(l->html, "bold"), "the text inside inline tags stays");
    cr_assert_null(strstr(l->text, "<"), "%s", l->text);
    cr_assert_null(strstr(l->text, "alert"), "%s", l->text);
    catalog_unref(cat);
}

Test(render, html_special_characters_are_escaped)
{
    struct catalog *cat = mem("Fish & chips < 5 \"quoted\"\n\n```table t\nname,value\n<b>x</b>,\"a & b\"\n```\n");
    const struct lesson *l = mem_lesson(cat);

    cr_assert_not_null(strstr(l->html, "Fish &amp; chips &lt; 5 &quot;quoted&quot;"), "%s", l->html);
    cr_assert_not_null(strstr(l->html, "<td>&lt;b&gt;x&lt;/b&gt;</td><td>a &amp; b</td>"), "%s",
                       l->html);
    cr_assert_not_null(strstr(l->text, "<b>x</b>  a & b"), "text shows cells as written:\n%s",
                       l->text);
    catalog_unref(cat);
}

Test(render, dangerous_links_are_dropped)
{
    struct catalog *cat =
        mem("[a](javascript:alert(1)) [b](JAVASCRIPT:alert(1)) [c](jav&#x61;script:alert(1)) "
            "[d](vbscript:x) [e](data:text/html;base64,xx) [f](file:///etc/x) [g](<java\tscript:x>) "
            "![i](javascript:alert(3)) [ok](https://example.org/) [mail](mailto:a@b.org)\n");
    const struct lesson *l = mem_lesson(cat);

    cr_assert_null(strcasestr(l->html, "href=\"javascript"), "%s", l->html);
    cr_assert_null(strcasestr(l->html, "script:"), "%s", l->html);
    cr_assert_null(strstr(l->html, "vbscript"), "%s", l->html);
    cr_assert_null(strstr(l->html, "data:"), "%s", l->html);
    cr_assert_null(strstr(l->html, "file:"), "%s", l->html);
    cr_assert_not_null(strstr(l->html, "<a href=\"https://example.org/\">ok</a>"), "%s", l->html);
    cr_assert_not_null(strstr(l->html, "<a href=\"mailto:a@b.org\">mail</a>"), "%s", l->html);
    /* Text: only the two allowed links get reference numbers. */
    cr_assert_not_null(strstr(l->text, "ok[1]"), "%s", l->text);
    cr_assert_not_null(strstr(l->text, "mail[2]"), "%s", l->text);
    cr_assert_not_null(strstr(l->text, "\n[1] https://example.org/\n[2] mailto:a@b.org\n"), "%s",
                       l->text);
    cr_assert_null(strstr(l->text, "[3]"), "%s", l->text);
    cr_assert_null(strcasestr(l->text, "script:"), "%s", l->text);
    catalog_unref(cat);
}

Test(render, url_filter)
{
    cr_assert(render_url_allowed("https://x.org/a"));
    cr_assert(render_url_allowed("HTTP://x.org"));
    cr_assert(render_url_allowed("02-next.md"));
    /* A file name longer than any scheme is still a relative reference. */
    cr_assert(render_url_allowed("03-green-value-chains-and-decent-work.md"));
    cr_assert(render_url_allowed("a-very-long-relative-name-without-colon"));
    cr_assert(render_url_allowed("../a/b.md#frag"));
    cr_assert(render_url_allowed("#top"));
    cr_assert(render_url_allowed("/abs/path?q=a:b"));
    cr_assert(render_url_allowed(""));
    cr_assert_not(render_url_allowed("javascript:alert(1)"));
    cr_assert_not(render_url_allowed(" JavaScript:alert(1)"));
    cr_assert_not(render_url_allowed("java\nscript:alert(1)"));
    cr_assert_not(render_url_allowed("data:text/html,x"));
    cr_assert_not(render_url_allowed(":nothing"));
    cr_assert_not(render_url_allowed("averyveryverylongscheme:x"));
}

Test(render, lesson_links_resolve_in_both_renderings)
{
    const char *dir = FIXTURES_DIR "/courses-good";
    struct diag_list d = {0};
    struct catalog *cat = catalog_load(dir, &d);
    const struct lesson *w = catalog_lesson(cat, "demo/welcome");

    cr_assert_not_null(strstr(w->html, "<a href=\"#/lesson/demo/lists\">the next lesson</a>"));
    cr_assert_not_null(strstr(w->html, "<a href=\"#/lesson/demo/market\">the case study</a>"),
                       "a #fragment is dropped");
    cr_assert_not_null(strstr(w->text, "the next lesson[1]"));
    cr_assert_not_null(strstr(w->text, "\n[1] demo/lists\n[2] demo/market\n"));
    catalog_unref(cat);
    diag_list_clear(&d);
}

Test(render, link_to_a_missing_lesson_is_an_error)
{
    struct diag_list d = {0};
    const char *src = "---\ntitle: T\nminutes: 1\n---\n\nText.\n\nSee [it](../02-x/01-gone.md) "
                      "and [web](https://x.org/page.md).\n";

    cr_assert_null(catalog_load_memory(src, strlen(src), &d));
    cr_assert_eq(d.count, 1);
    cr_assert_eq(d.items[0].line, 8);
    cr_assert_str_eq(d.items[0].msg, "link to missing lesson '../02-x/01-gone.md'");
    cr_assert_str_eq(d.items[0].path, "memory/01-memory/01-lesson.md");
    diag_list_clear(&d);
}

Test(render, link_above_the_courses_folder_is_an_error)
{
    struct diag_list d = {0};
    const char *src = "---\ntitle: T\nminutes: 1\n---\n\n[x](../../../../etc/a.md)\n";

    cr_assert_null(catalog_load_memory(src, strlen(src), &d));
    cr_assert_str_eq(d.items[0].msg, "link to missing lesson '../../../../etc/a.md'");
    diag_list_clear(&d);
}

/* Asserts that no line of text is wider than width code points, except
 * indented code lines. */
static void assert_wrapped(const char *text, size_t width)
{
    const char *p = text;

    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (strncmp(p, "    ", 4) != 0)
            cr_assert_leq(render_width(p, n), width, "line too wide: %.*s", (int)n, p);
        p += n + (e != NULL);
    }
}

Test(render, text_wraps_at_the_width_counting_code_points)
{
    struct catalog *cat = mem("Él señaló que «la cooperación» entre empresas pequeñas crea eficiencia "
                              "colectiva, según el estudio de Schmitz: ñandú, pingüino, acción.\n\n"
                              "> Una cita larga que también se tiene que partir en varias líneas "
                              "para caber.\n\n- lista con un elemento bastante largo que se "
                              "parte con sangría colgante\n  - y otro anidado igual de largo que "
                              "el primero, o más\n");
    const struct lesson *l = mem_lesson(cat);

    for (int w = CATALOG_TEXT_WIDTH_MIN; w <= 100; w += 7) {
        char *t = catalog_lesson_text(l, w, false);
        assert_wrapped(t, (size_t)w);
        free(t);
    }
    char *t = catalog_lesson_text(l, 30, false);
    cr_assert_not_null(strstr(t, "\n> "), "%s", t);
    cr_assert_not_null(strstr(t, "\n* lista con un elemento"), "%s", t);
    cr_assert_not_null(strstr(t, "\n  bastante"), "hanging indent under the bullet:\n%s", t);
    cr_assert_not_null(strstr(t, "\n  * y otro anidado"), "%s", t);
    cr_assert_not_null(strstr(t, "\n    "), "nested hanging indent:\n%s", t);
    free(t);
    catalog_unref(cat);
}

Test(render, width_is_clamped)
{
    struct catalog *cat = mem("word word word word word word word word word word word word\n");
    char *t = catalog_lesson_text(mem_lesson(cat), 1, false);

    assert_wrapped(t, CATALOG_TEXT_WIDTH_MIN);
    cr_assert_str_eq(t, "word word word word\nword word word word\nword word word word\n");
    free(t);
    catalog_unref(cat);
}

Test(render, ansi_only_when_asked)
{
    struct catalog *cat = mem("# Head\n\nSome *it* and **bold** and [a link](https://x.org).\n\n### Small\n");
    const struct lesson *l = mem_lesson(cat);
    char *a = catalog_lesson_text(l, 80, true);

    cr_assert_null(strchr(l->text, '\033'));
    /* Without colour, strong emphasis is marked *so*. */
    cr_assert_str_eq(l->text, "Head\n====\n\nSome it and *bold* and a link[1].\n\n### Small\n\n"
                              "[1] https://x.org\n");
    cr_assert_str_eq(a, "\033[1mHead\033[22m\n====\n\nSome \033[3mit\033[23m and \033[1mbold\033[22m "
                        "and \033[4ma link\033[24m[1].\n\n### \033[1mSmall\033[22m\n\n"
                        "[1] https://x.org\n");
    free(a);
    catalog_unref(cat);
}

Test(render, code_blocks_are_indented_and_cut_to_the_width)
{
    struct catalog *cat = mem("```c\nint main(void) { return 0; } /* a rather long line that goes on and on */\n\n  x\n```\n");
    char *t = catalog_lesson_text(mem_lesson(cat), 20, false);

    /* No line is wider than the width: a long code line goes on below. */
    cr_assert_str_eq(t, "    int main(void) {\n     return 0; } /*\n    a rather long li\n"
                        "    ne that goes on\n    and on */\n\n      x\n");
    free(t);
    catalog_unref(cat);
}

Test(render, exercise_blocks_are_placeholders)
{
    struct catalog *cat = mem("Intro.\n\n```gift\n::Q:: secret answer {=yes ~no}\n```\n\n"
                              "Middle.\n\n```task\nid: t\ntype: review\nprompt: secret prompt\n```\n");
    const struct lesson *l = mem_lesson(cat);

    cr_assert_null(strstr(l->html, "secret"), "%s", l->html);
    cr_assert_null(strstr(l->text, "secret"), "%s", l->text);
    cr_assert_str_eq(l->html, "<p>Intro.</p>\n<div class=\"exercise\" data-exercise=\"memory/lesson\">"
                              "<p>Exercise: use EXERCISE memory/lesson</p></div>\n<p>Middle.</p>\n"
                              "<div class=\"exercise\" data-exercise=\"memory/lesson\"><p>Exercise: "
                              "use EXERCISE memory/lesson</p></div>\n");
    cr_assert_str_eq(l->text, "Intro.\n\n[Exercise: use EXERCISE memory/lesson]\n\nMiddle.\n\n"
                              "[Exercise: use EXERCISE memory/lesson]\n");
    cr_assert_eq(l->nexercises, 2);
    catalog_unref(cat);
}

Test(render, table_text_is_aligned_by_code_points)
{
    struct catalog *cat = mem("```table t\nnamé,n\nÉcole,5\nb,10\n```\n");
    const struct lesson *l = mem_lesson(cat);

    cr_assert_str_eq(l->text, "namé   n\n-----  --\nÉcole   5\nb      10\n");
    catalog_unref(cat);
}

Test(render, lists_numbered_from_their_start)
{
    struct catalog *cat = mem("7. seven\n8. eight\n\n1) paren\n");
    const struct lesson *l = mem_lesson(cat);

    cr_assert_str_eq(l->text, "7. seven\n8. eight\n\n1) paren\n");
    catalog_unref(cat);
}

Test(render, hard_breaks_and_rules)
{
    struct catalog *cat = mem("one\\\ntwo\n\n***\n\nthree\n");
    char *t = catalog_lesson_text(mem_lesson(cat), 20, false);

    cr_assert_str_eq(t, "one\ntwo\n\n--------------------\n\nthree\n");
    free(t);
    catalog_unref(cat);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the machine may be busy */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Loads body (NUL-terminated) from memory and renders it at width 40; the
 * whole must take under a second. */
static void assert_fast(const char *body, const char *what)
{
    double t0 = now();
    struct catalog *cat = mem(body);
    char *t = catalog_lesson_text(mem_lesson(cat), 40, true);
    double dt = now() - t0;

    cr_assert_lt(dt, 1.0, "%s took %.2f s", what, dt);
    free(t);
    catalog_unref(cat);
}

Test(pathological, deep_nesting_and_long_runs)
{
    struct sbuf b = {0};

    for (int i = 0; i < 10000; i++)
        sbuf_adds(&b, "> ");
    sbuf_adds(&b, "deep\n");
    assert_fast(b.data, "10,000 nested quotes");
    sbuf_free(&b);

    for (int i = 0; i < 10000; i++)
        sbuf_adds(&b, "- ");
    sbuf_adds(&b, "deep\n");
    assert_fast(b.data, "10,000 nested list items");
    sbuf_free(&b);

    for (int i = 0; i < 5000; i++)
        sbuf_printf(&b, "%d. item [l%d](https://x.org/%d)\n", i + 1, i, i % 100);
    assert_fast(b.data, "5,000 numbered list items with links");
    sbuf_free(&b);

    for (int i = 0; i < 10000; i++)
        sbuf_adds(&b, "*a **b ");
    sbuf_adds(&b, "\n");
    assert_fast(b.data, "10,000 unclosed emphasis markers");
    sbuf_free(&b);

    for (int i = 0; i < 3000; i++)
        sbuf_printf(&b, "```table t%d\na,b\n1,2\n```\n\n", i);
    assert_fast(b.data, "3,000 tables");
    sbuf_free(&b);

    for (int i = 0; i < 3000; i++)
        sbuf_printf(&b, "```task\nid: t%d\n```\n\n", i);
    double t0 = now();
    struct diag_list d = {0};
    struct catalog *cat = catalog_load_memory(b.data, b.len, &d);
    cr_assert_lt(now() - t0, 1.0, "3,000 exercise blocks took %.2f s", now() - t0);
    cr_assert_null(cat, "tasks without a type are errors");
    diag_list_clear(&d);
    sbuf_free(&b);
}

/* ---- the trainer's layer and fitted tables ---- */

Test(render, table_labels_and_underscores_in_text)
{
    struct catalog *cat = mem("```table t\nlabels: a_b = First column\na_b,c_d\n1,2\n```\n");
    const struct lesson *l = mem_lesson(cat);

    cr_assert_str_eq(l->text, "First column  c d\n------------  ---\n           1    2\n");
    /* Graders still see the names; HTML shows the header as written. */
    cr_assert_str_eq(l->tables[0]->header[0], "a_b");
    cr_assert(strstr(l->html, "<th>a_b</th>") != NULL);
    catalog_unref(cat);

    struct diag_list d = {0};
    const char *bad = "---\ntitle: T\nminutes: 1\n---\n\n```table t\nlabels: zz = Z\na,b\n1,2\n```\n";
    cr_assert_null(catalog_load_memory(bad, strlen(bad), &d));
    cr_assert_str_eq(d.items[0].msg, "table 't': labels: no column 'zz'");
    diag_list_clear(&d);
}

Test(render, narrow_tables_become_records_and_no_line_is_too_wide)
{
    struct catalog *cat = mem("```table t\nproject,what the agent did\n"
                              "Atuntaqui,\"Ran the diagnostic with the firms, then the vision\"\n"
                              "Ambato,Built trust\n```\n");
    const struct lesson *l = mem_lesson(cat);
    char *t = catalog_lesson_text(l, 20, false);

    cr_assert_str_eq(t, "project: Atuntaqui\nwhat the agent\n  did: Ran the\n  diagnostic with\n"
                        "  the firms, then\n  the vision\n\nproject: Ambato\nwhat the agent\n"
                        "  did: Built trust\n");
    free(t);
    t = catalog_lesson_text(l, 40, false);
    for (char *line = t, *nl; (nl = strchr(line, '\n')); line = nl + 1)
        cr_assert_leq(render_width(line, (size_t)(nl - line)), 40, "%.*s", (int)(nl - line), line);
    free(t);
    catalog_unref(cat);
}

Test(render, trainer_blocks_only_in_the_trainer_view)
{
    struct catalog *cat = mem("Before.\n\n```trainer\nA **model** answer.\n```\n\nAfter.\n");
    const struct lesson *l = mem_lesson(cat);
    struct text_view v = {.width = 40, .trainer = true};
    char *t = catalog_lesson_text_view(l, &v);

    cr_assert_str_eq(l->text, "Before.\n\nAfter.\n");
    cr_assert(strstr(l->html, "model") == NULL && strstr(l->html, "trainer") == NULL);
    cr_assert_str_eq(t, "Before.\n\n[Trainer notes]\n| A *model* answer.\n\nAfter.\n");
    cr_assert(strstr(l->trainer_html, "<aside class=\"trainer\" data-task=\"\">") != NULL);
    cr_assert(strstr(l->trainer_html, "<strong>model</strong>") != NULL);
    cr_assert_eq(l->ntrainer_blocks, 1);
    cr_assert_str_eq(l->trainer_tasks[0], "");
    cr_assert_str_neq(l->version, l->trainer_version);
    free(t);
    catalog_unref(cat);
}

Test(render, placeholder_left_out_above_the_exercise_and_title_not_repeated)
{
    struct catalog *cat = mem("# T\n\nRead this.\n\n```gift\nQ {T}\n```\n");
    const struct lesson *l = mem_lesson(cat);
    struct text_view v = {.width = 80, .in_exercise = true};
    char *t = catalog_lesson_text_view(l, &v);

    cr_assert_str_eq(l->text, "Read this.\n\n[Exercise: use EXERCISE memory/lesson]\n");
    cr_assert_str_eq(t, "Read this.\n");
    free(t);
    t = catalog_lesson_text(l, 80, true);
    cr_assert_str_eq(t, "Read this.\n\n[Exercise: use EXERCISE memory/lesson]\n");
    free(t);
    catalog_unref(cat);
}
