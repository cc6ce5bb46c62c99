/* msg.c: the course library's own words in French and Spanish (msg.h). */
#include "msg.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* Keyed by the English as the code writes it. The author's text (questions,
 * options, feedback) is never here: it comes in the variant's language. */
static const struct {
    const char *en, *fr, *es;
} table[] = {
    /* the frame of a graded answer (exercise_grade.c) */
    { "score %.1f %s (pass mark %g)\n", "note %.1f %s (seuil de réussite %g)\n",
      "puntuación %.1f %s (nota para aprobar %g)\n" },
    { "pending review", "en attente de correction", "pendiente de revisión" },
    { "passed", "réussi", "aprobado" },
    { "not passed", "non réussi", "no aprobado" },
    { "%s provisional %.1f (a trainer confirms it)",
      "%s provisoire %.1f (un formateur la confirme)",
      "%s provisional %.1f (un formador la confirma)" },
    { "%s pending review", "%s en attente de correction", "%s pendiente de revisión" },
    { "  answer: ", "  réponse : ", "  respuesta: " },
    /* why an answer does not read (gift_grade.c, task_grade.c, exercise_grade.c) */
    { "expected one letter from a to %c", "une lettre de a à %c est attendue",
      "se espera una letra de la a a la %c" },
    { "expected letters from a to %c separated by commas",
      "des lettres de a à %c séparées par des virgules sont attendues",
      "se esperan letras de la a a la %c separadas por comas" },
    { "expected true or false", "true (vrai) ou false (faux) est attendu",
      "se espera true (verdadero) o false (falso)" },
    { "expected a number", "un nombre est attendu", "se espera un número" },
    { "expected pairs like 1=a 2=b (1 to %zu, a to %c, each number once)",
      "des paires comme 1=a 2=b sont attendues (1 à %zu, a à %c, chaque numéro une fois)",
      "se esperan pares como 1=a 2=b (del 1 al %zu, de la a a la %c, cada número una vez)" },
    { "%s: expected the item numbers 1 to %zu in order, each once (e.g. %s: 2 1 ...)",
      "%s : les numéros des éléments de 1 à %zu sont attendus dans l'ordre, chacun une fois "
      "(par ex. %s: 2 1 ...)",
      "%s: se esperan los números de elemento del 1 al %zu en orden, cada uno una vez "
      "(p. ej. %s: 2 1 ...)" },
    { "%s: expected a category key (%s), =, and item numbers 1 to %zu separated by commas, each "
      "item once (e.g. %s: %s=1,2 %s=3)",
      "%s : une clé de catégorie (%s), =, puis des numéros d'éléments de 1 à %zu séparés par des "
      "virgules sont attendus, chaque élément une fois (par ex. %s: %s=1,2 %s=3)",
      "%s: se espera una clave de categoría (%s), =, y números de elemento del 1 al %zu separados "
      "por comas, cada elemento una vez (p. ej. %s: %s=1,2 %s=3)" },
    { "%s: expected a number, optionally followed by %s",
      "%s : un nombre est attendu, éventuellement suivi de %s",
      "%s: se espera un número, seguido si se quiere de %s" },
    { "%s: expected a number", "%s : un nombre est attendu", "%s: se espera un número" },
    { "line %d: %s is not a task of this exercise (tasks: %s)",
      "ligne %d : %s n'est pas une tâche de cet exercice (tâches : %s)",
      "línea %d: %s no es una tarea de este ejercicio (tareas: %s)" },
    /* why an answer document does not parse (common/answer.c) */
    { "the answer document is not valid UTF-8 text",
      "le document de réponse n'est pas du texte UTF-8 valide",
      "el documento de respuesta no es texto UTF-8 válido" },
    { "line %d: a continuation line (starting with spaces) must follow a \"task-id: answer\" line",
      "ligne %d : une ligne de suite (qui commence par des espaces) doit suivre une ligne "
      "\"task-id: answer\"",
      "línea %d: una línea de continuación (que empieza con espacios) debe seguir a una línea "
      "\"task-id: answer\"" },
    { "line %d: expected \"task-id: answer\" (ids are lower-case letters, digits, - and .)",
      "ligne %d : \"task-id: answer\" est attendu (les identifiants sont faits de lettres "
      "minuscules, de chiffres, de - et de .)",
      "línea %d: se espera \"task-id: answer\" (los identificadores llevan letras minúsculas, "
      "cifras, - y .)" },
    { "line %d: more than %d answers", "ligne %d : plus de %d réponses",
      "línea %d: más de %d respuestas" },
    { "line %d: a second answer for %s", "ligne %d : une deuxième réponse pour %s",
      "línea %d: una segunda respuesta para %s" },
    { "No answer.", "Pas de réponse.", "Sin respuesta." },
    { "an answer is needed", "il faut une réponse", "se necesita una respuesta" },
    /* words a lesson's text rendering adds (render_text.c) */
    { "[Exercise: use EXERCISE %s]", "[Exercice : utilisez EXERCISE %s]",
      "[Ejercicio: use EXERCISE %s]" },
    { "[%zu] file %s", "[%zu] fichier %s", "[%zu] archivo %s" },
    /* the learner's view of an exercise (exercise_view.c) */
    { "attempts: %d, ", "tentatives : %d, ", "intentos: %d, " },
    { "pass mark: %g\n\n", "seuil de réussite : %g\n\n", "nota para aprobar: %g\n\n" },
    { "Answer with one line per task: id: answer\n\n",
      "Répondez par une ligne par tâche : id: réponse\n\n",
      "Responda con una línea por tarea: id: respuesta\n\n" },
    { "  unit: %s\n", "  unité : %s\n", "  unidad: %s\n" },
    { "  points: %g\n", "  points : %g\n", "  puntos: %g\n" },
    { "  answer: %s\n\n", "  réponse : %s\n\n", "  respuesta: %s\n\n" },
    { "one letter", "une lettre", "una letra" },
    { "letters separated by commas, e.g. a,c",
      "des lettres séparées par des virgules, par ex. a,c",
      "letras separadas por comas, p. ej. a,c" },
    { "true or false", "true (vrai) ou false (faux)", "true (verdadero) o false (falso)" },
    { "a word or a few words", "un mot ou quelques mots", "una palabra o unas pocas palabras" },
    { "a number", "un nombre", "un número" },
    { "pairs such as 1=a 2=b", "des paires comme 1=a 2=b", "pares como 1=a 2=b" },
    { "free text, graded by a trainer (more lines start with two spaces)",
      "texte libre, corrigé par un formateur (les lignes suivantes commencent par deux espaces)",
      "texto libre, calificado por un formador (las líneas siguientes empiezan con dos "
      "espacios)" },
    { "the item numbers in the right order, e.g. 3 1 2",
      "les numéros des éléments dans le bon ordre, par ex. 3 1 2",
      "los números de los elementos en el orden correcto, p. ej. 3 1 2" },
    { "each category key, =, and its item numbers, e.g. s=1,3 w=2",
      "chaque clé de catégorie, =, et ses numéros d'éléments, par ex. s=1,3 w=2",
      "cada clave de categoría, =, y sus números de elemento, p. ej. s=1,3 w=2" },
    { "actor names separated by commas (none if there are none)",
      "des noms d'acteurs séparés par des virgules (none s'il n'y en a aucun)",
      "nombres de actores separados por comas (none si no hay ninguno)" },
    { "free text (more lines start with two spaces)",
      "texte libre (les lignes suivantes commencent par deux espaces)",
      "texto libre (las líneas siguientes empiezan con dos espacios)" },
};

#define TABLE_N (sizeof(table) / sizeof(table[0]))

const char *content_msg(const char *lang, const char *en)
{
    bool fr = lang && strcasecmp(lang, "fr") == 0, es = lang && strcasecmp(lang, "es") == 0;

    for (size_t i = 0; (fr || es) && i < TABLE_N; i++)
        if (strcmp(table[i].en, en) == 0)
            return fr ? table[i].fr : table[i].es;
    return en;
}

size_t content_msg_size(void)
{
    return TABLE_N;
}

void content_msg_entry(size_t i, const char **en, const char **fr, const char **es)
{
    *en = table[i].en;
    *fr = table[i].fr;
    *es = table[i].es;
}
