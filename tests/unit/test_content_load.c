/* test_content_load.c: loading course folders into a catalogue. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "exercise.h"
#include "util.h"

#define GOOD FIXTURES_DIR "/courses-good"

static struct catalog *load_good(void)
{
    struct diag_list d = {0};
    struct catalog *cat = catalog_load(GOOD, &d);

    cr_assert_not_null(cat);
    cr_assert_eq(d.count, 0, "the good fixtures load without a single diagnostic");
    diag_list_clear(&d);
    return cat;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct sbuf b = {0};
    char buf[4096];
    size_t n;

    cr_assert_not_null(f, "%s", path);
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        sbuf_add(&b, buf, n);
    fclose(f);
    *len = b.len;
    return sbuf_take(&b);
}

static void write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    fputs(s, f);
    fclose(f);
}

/* A fresh temporary folder holding a valid course "c" with one lesson. */
static char *temp_course(void)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char *dir = xasprintf("%s/campus-load-XXXXXX", tmp);
    char *p;

    cr_assert_not_null(mkdtemp(dir));
    p = xasprintf("%s/courses", dir), mkdir(p, 0700), free(p);
    p = xasprintf("%s/courses/c", dir), mkdir(p, 0700), free(p);
    p = xasprintf("%s/courses/c/01-m", dir), mkdir(p, 0700), free(p);
    p = xasprintf("%s/courses/c/course.md", dir);
    write_file(p, "---\nid: c\ntitle: C\nsummary: S\nlanguage: en\nversion: 1\n---\n");
    free(p);
    p = xasprintf("%s/courses/c/01-m/module.md", dir);
    write_file(p, "---\ntitle: M\n---\n");
    free(p);
    p = xasprintf("%s/courses/c/01-m/01-a.md", dir);
    write_file(p, "---\ntitle: A\nminutes: 1\n---\n\nText.\n");
    free(p);
    return dir;
}

static void rm_rf(const char *dir)
{
    char *cmd = xasprintf("rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    free(cmd);
}

Test(load, courses_modules_and_totals)
{
    struct catalog *cat = load_good();

    cr_assert_eq(cat->ncourses, 1);
    const struct course *c = catalog_course(cat, "demo");
    cr_assert_not_null(c);
    cr_assert_null(catalog_course(cat, "nope"));
    cr_assert_str_eq(c->title, "Demo course");
    cr_assert_str_eq(c->language, "en");
    cr_assert_str_eq(c->version, "1.0.0");
    cr_assert_eq(c->nauthors, 2);
    cr_assert_str_eq(c->authors[1], "Bo Author");
    cr_assert_eq(c->completion.lessons_percent, 80);
    cr_assert_eq(c->completion.exercises, 1);
    cr_assert_eq(c->nmodules, 2);
    cr_assert_str_eq(c->modules[0]->id, "basics");
    cr_assert_str_eq(c->modules[0]->title, "Basics");
    cr_assert_str_eq(c->modules[1]->id, "cases");
    cr_assert_str_eq(c->modules[1]->summary, "");
    cr_assert_eq(c->nlessons, 3);
    cr_assert_eq(c->minutes, 10 + 15 + 30);
    cr_assert_eq(c->modules[0]->minutes, 25);
    cr_assert_eq(c->nexercises, 2);
    cr_assert(strstr(c->intro_html, "<strong>demo</strong>") != NULL);
    cr_assert(strstr(c->intro_html, "href=\"#/lesson/demo/welcome\"") != NULL,
              "links in course.md resolve too");
    cr_assert(strstr(c->modules[0]->intro_text, "This module introduces clusters.") != NULL);
    catalog_unref(cat);
}

Test(load, order_ids_and_neighbours)
{
    struct catalog *cat = load_good();
    const struct course *c = catalog_course(cat, "demo");
    const char *order[] = {"demo/welcome", "demo/lists", "demo/market"};

    for (size_t i = 0; i < 3; i++) {
        cr_assert_str_eq(c->lessons[i]->full_id, order[i]);
        cr_assert_eq(c->lessons[i]->index, i);
        cr_assert_eq(catalog_lesson(cat, order[i]), c->lessons[i]);
    }
    const struct lesson *w = c->lessons[0], *l = c->lessons[1], *m = c->lessons[2];
    cr_assert_str_eq(w->id, "welcome");
    cr_assert_null(w->prev_id);
    cr_assert_str_eq(w->next_id, "demo/lists");
    cr_assert_str_eq(l->prev_id, "demo/welcome");
    cr_assert_str_eq(l->next_id, "demo/market", "next crosses into the next module");
    cr_assert_eq(m->prev, l);
    cr_assert_null(m->next_id);
    cr_assert_eq(m->module, c->modules[1]);
    cr_assert(m->is_case);
    cr_assert_not(l->is_case);
    cr_assert_eq(l->number, 2);
    cr_assert_null(catalog_lesson(cat, "demo/nope"));
    cr_assert_null(catalog_lesson(cat, "welcome"));
    cr_assert_null(catalog_lesson(cat, ""));
    catalog_unref(cat);
}

Test(load, lesson_fields)
{
    struct catalog *cat = load_good();
    const struct lesson *w = catalog_lesson(cat, "demo/welcome");
    const struct lesson *m = catalog_lesson(cat, "demo/market");

    cr_assert_str_eq(w->title, "Welcome to clusters");
    cr_assert_eq(w->minutes, 10);
    cr_assert_eq(w->nobjectives, 2);
    cr_assert_str_eq(w->objectives[0], "Say what a cluster is");
    cr_assert_eq(w->nsources, 1);
    cr_assert_str_eq(w->sources[0], "seed-intro.txt");
    cr_assert_str_eq(w->path, "demo/01-basics/01-welcome.md");
    cr_assert_eq(m->nprerequisites, 1);
    cr_assert_str_eq(m->prerequisites[0], "demo/lists");
    const struct lesson *l = catalog_lesson(cat, "demo/lists");
    cr_assert_str_eq(l->prerequisites[0], "demo/welcome", "a bare id is taken in the course");
    cr_assert_eq(m->front_matter_line, 2);
    cr_assert(strncmp(m->front_matter, "title: The café market of Dúrcal\n", 34) == 0);
    cr_assert(strstr(m->front_matter, "reveal: after-pass\n") != NULL);
    cr_assert(strncmp(w->markdown, "---\ntitle: Welcome", 18) == 0);
    cr_assert_eq(strlen(w->markdown), w->markdown_len);
    catalog_unref(cat);
}

Test(load, version_is_the_sha256_of_the_file)
{
    struct catalog *cat = load_good();
    size_t len;
    char *src = slurp(GOOD "/demo/01-basics/01-welcome.md", &len);
    char hex[65];

    sha256_hex(src, len, hex);
    cr_assert_str_eq(catalog_lesson(cat, "demo/welcome")->version, hex);
    cr_assert_str_neq(catalog_lesson(cat, "demo/lists")->version, hex);
    free(src);
    catalog_unref(cat);
}

Test(load, exercise_sources_and_tables_are_kept)
{
    struct catalog *cat = load_good();
    const struct lesson *l = catalog_lesson(cat, "demo/lists");
    const struct lesson *m = catalog_lesson(cat, "demo/market");

    cr_assert_eq(catalog_lesson(cat, "demo/welcome")->nexercises, 0);
    cr_assert_eq(l->nexercises, 2);
    cr_assert_eq(l->exercises[0].kind, EXERCISE_SOURCE_GIFT);
    cr_assert_eq(l->exercises[0].fence_line, 24);
    cr_assert_eq(l->exercises[0].line, 25);
    cr_assert(strncmp(l->exercises[0].text, "::Phases::Which phase", 21) == 0);
    cr_assert_eq(l->exercises[0].len, strlen(l->exercises[0].text));
    cr_assert_eq(l->exercises[1].line, 32);
    cr_assert_str_eq(l->exercises[1].text, "::Trust::Trust grows through small joint projects. {T}\n");
    cr_assert_eq(m->nexercises, 1);
    cr_assert_eq(m->exercises[0].kind, EXERCISE_SOURCE_TASK);
    cr_assert(strncmp(m->exercises[0].text, "id: share\ntype: numeric\n", 24) == 0);
    cr_assert_eq(m->ntables, 1);
    cr_assert_str_eq(m->tables[0]->name, "people");
    cr_assert_eq(m->tables[0]->line, 16);
    cr_assert_eq(m->tables[0]->nrows, 2);
    cr_assert_str_eq(m->tables[0]->header[2], "note, if any");
    cr_assert_str_eq(m->tables[0]->cells[0][2], "main group, \"core\"");
    catalog_unref(cat);
}

Test(load, reference_counting_keeps_the_catalogue_alive)
{
    struct catalog *cat = load_good();
    const struct lesson *w = catalog_lesson(cat, "demo/welcome");

    cr_assert_eq(catalog_ref(cat), cat);
    catalog_unref(cat);
    /* Still one reference: the lesson must still be readable (ASan checks). */
    cr_assert_str_eq(w->full_id, "demo/welcome");
    catalog_unref(cat);
    catalog_unref(NULL);
}

Test(load, two_loads_are_independent)
{
    struct catalog *a = load_good(), *b = load_good();

    cr_assert_neq(a, b);
    catalog_unref(a);
    cr_assert_str_eq(catalog_lesson(b, "demo/lists")->title, "Steps of an intervention");
    catalog_unref(b);
}

/* Caches are keyed by a load's generation: a load made after another was
 * freed, often in the same memory, still has a number of its own. */
Test(load, each_load_has_a_generation_of_its_own)
{
    struct catalog *a = load_good();
    uint64_t ga = a->generation;
    struct catalog *b = load_good();
    catalog_unref(a);
    struct catalog *c = load_good();

    cr_assert_neq(ga, 0);
    cr_assert_gt(b->generation, ga);
    cr_assert_gt(c->generation, b->generation);
    catalog_unref(b);
    catalog_unref(c);
}

Test(load, missing_folder_is_an_error)
{
    struct diag_list d = {0};

    cr_assert_null(catalog_load(FIXTURES_DIR "/no-such-folder", &d));
    cr_assert_eq(d.errors, 1);
    cr_assert_str_eq(d.items[0].msg, "cannot open the courses folder");
    diag_list_clear(&d);
}

Test(load, broken_fixtures_give_no_catalogue)
{
    struct diag_list d = {0};

    cr_assert_null(catalog_load(FIXTURES_DIR "/courses-broken", &d));
    cr_assert_gt(d.errors, 20);
    cr_assert_gt(d.warnings, 3);
    diag_list_clear(&d);
}

Test(load, symlink_leading_outside_is_an_error)
{
    char *dir = temp_course();
    char *target = xasprintf("%s/secret.md", dir);
    char *link = xasprintf("%s/courses/c/01-m/02-b.md", dir);
    char *courses = xasprintf("%s/courses", dir);
    struct diag_list d = {0};

    write_file(target, "---\ntitle: B\nminutes: 1\n---\n\nSecret.\n");
    cr_assert_eq(symlink(target, link), 0);
    cr_assert_null(catalog_load(courses, &d));
    cr_assert_eq(d.count, 1);
    cr_assert_str_eq(d.items[0].path, "c/01-m/02-b.md");
    cr_assert_str_eq(d.items[0].msg, "symbolic link leads outside the courses folder");
    diag_list_clear(&d);
    rm_rf(dir);
    free(dir), free(target), free(link), free(courses);
}

Test(load, symlink_inside_the_folder_is_followed)
{
    char *dir = temp_course();
    char *link = xasprintf("%s/courses/c/01-m/02-b.md", dir);
    char *courses = xasprintf("%s/courses", dir);
    struct diag_list d = {0};

    cr_assert_eq(symlink("01-a.md", link), 0);
    /* Same slug is not reused: 02-b has its own id "b". */
    struct catalog *cat = catalog_load(courses, &d);
    cr_assert_not_null(cat);
    cr_assert_eq(d.count, 0);
    cr_assert_str_eq(catalog_lesson(cat, "c/b")->title, "A");
    catalog_unref(cat);
    diag_list_clear(&d);
    rm_rf(dir);
    free(dir), free(link), free(courses);
}

Test(load, oversized_file_is_an_error)
{
    char *dir = temp_course();
    char *path = xasprintf("%s/courses/c/01-m/02-big.md", dir);
    char *courses = xasprintf("%s/courses", dir);
    struct diag_list d = {0};
    FILE *f = fopen(path, "wb");

    fputs("---\ntitle: Big\nminutes: 1\n---\n\n", f);
    for (int i = 0; i < CATALOG_FILE_MAX / 64 + 1; i++)
        fputs("a line of text that is sixty-four bytes long, more or less.....\n", f);
    fclose(f);
    cr_assert_null(catalog_load(courses, &d));
    cr_assert_eq(d.count, 1);
    cr_assert_str_eq(d.items[0].path, "c/01-m/02-big.md");
    cr_assert_str_eq(d.items[0].msg, "file is larger than 4194304 bytes");
    diag_list_clear(&d);
    rm_rf(dir);
    free(dir), free(path), free(courses);
}

Test(load, memory_lesson)
{
    struct diag_list d = {0};
    const char *src = "---\ntitle: Mem\nminutes: 2\n---\n\nHello *world*.\n";
    struct catalog *cat = catalog_load_memory(src, strlen(src), &d);

    cr_assert_not_null(cat);
    cr_assert_eq(d.count, 0);
    const struct lesson *l = catalog_lesson(cat, "memory/lesson");
    cr_assert_not_null(l);
    cr_assert_str_eq(l->html, "<p>Hello <em>world</em>.</p>\n");
    cr_assert_str_eq(l->text, "Hello world.\n");
    catalog_unref(cat);
}

Test(load, bad_utf8_is_an_error_with_its_line)
{
    struct diag_list d = {0};
    const char *src = "---\ntitle: Mem\nminutes: 2\n---\n\nCaf\xe9\n";

    cr_assert_null(catalog_load_memory(src, strlen(src), &d));
    cr_assert_eq(d.count, 1);
    cr_assert_eq(d.items[0].line, 6);
    cr_assert_str_eq(d.items[0].msg, "file is not valid UTF-8");
    diag_list_clear(&d);
}

Test(load, overlong_utf8_is_rejected)
{
    struct diag_list d = {0};
    const char *src = "---\ntitle: Mem\nminutes: 2\n---\n\n\xc0\xaf\n";

    cr_assert_null(catalog_load_memory(src, strlen(src), &d));
    cr_assert_str_eq(d.items[0].msg, "file is not valid UTF-8");
    diag_list_clear(&d);
}

Test(load, empty_lesson_is_an_error)
{
    struct diag_list d = {0};
    const char *src = "---\ntitle: Mem\nminutes: 2\n---\n\n   \n";

    cr_assert_null(catalog_load_memory(src, strlen(src), &d));
    cr_assert_eq(d.count, 1);
    cr_assert_eq(d.items[0].line, 5);
    cr_assert_str_eq(d.items[0].msg, "lesson is empty: it needs some content after the front matter");
    diag_list_clear(&d);
}

Test(load, diagnostics_are_appended_to_the_callers_list)
{
    struct diag_list d = {0};
    const char *src = "---\ntitle: Mem\nminutes: 2\nfoo: 1\n---\n\nText\n";

    diag_add(&d, DIAG_ERROR, "earlier", 1, "an earlier error");
    struct catalog *cat = catalog_load_memory(src, strlen(src), &d);
    cr_assert_not_null(cat, "an earlier error in the list does not fail this load");
    cr_assert_eq(d.count, 2);
    cr_assert_str_eq(d.items[1].msg, "unknown key 'foo'");
    cr_assert_eq(d.warnings, 1);
    catalog_unref(cat);
    diag_list_clear(&d);
}

Test(load, exercises_are_built_by_the_grading_engine)
{
    struct catalog *cat = load_good();
    const struct lesson *l = catalog_lesson(cat, "demo/lists");
    const struct lesson *m = catalog_lesson(cat, "demo/market");

    cr_assert_null(catalog_lesson(cat, "demo/welcome")->exercise);
    cr_assert_not_null(l->exercise);
    cr_assert_eq(exercise_attempts(l->exercise), 2, "settings come from the front matter");
    cr_assert_float_eq(exercise_pass(l->exercise), 50, 1e-9);
    cr_assert_not_null(m->exercise);
    cr_assert_not_null(exercise_task(m->exercise, "share"));
    catalog_unref(cat);
}

Test(load, exercise_errors_fail_the_load)
{
    struct diag_list d = {0};
    const char *src = "---\ntitle: T\nminutes: 1\n---\n\nText.\n\n```task\nid: a\ntype: nonsense\n```\n";

    cr_assert_null(catalog_load_memory(src, strlen(src), &d));
    cr_assert_geq(d.errors, 1);
    cr_assert_str_eq(d.items[0].path, "memory/01-memory/01-lesson.md");
    cr_assert_eq(d.items[0].line, 10, "reported at the task's line");
    diag_list_clear(&d);
}
