/* task_yaml.c: small helpers over libyaml documents (lookups, scalars). */
#include "task_yaml.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int task_yaml_load(const char *text, size_t len, yaml_document_t *doc, char *err,
                   size_t errlen, int *err_line)
{
    yaml_parser_t p;
    int rc = 0;

    if (!yaml_parser_initialize(&p)) {
        snprintf(err, errlen, "cannot start the YAML parser");
        *err_line = 0;
        return -1;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, doc)) {
        snprintf(err, errlen, "YAML: %s%s%s", p.problem ? p.problem : "syntax error",
                 p.context ? " " : "", p.context ? p.context : "");
        *err_line = (int)(p.problem_mark.line);
        rc = -1;
    }
    yaml_parser_delete(&p);
    return rc;
}

yaml_node_t *task_yaml_get(yaml_document_t *doc, yaml_node_t *map, const char *key,
                           yaml_node_t **key_node)
{
    if (map == NULL || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = yaml_document_get_node(doc, pr->key);
        const char *s = task_yaml_str(k);
        if (s && strcmp(s, key) == 0) {
            if (key_node)
                *key_node = k;
            return yaml_document_get_node(doc, pr->value);
        }
    }
    return NULL;
}

const char *task_yaml_str(yaml_node_t *n)
{
    if (n == NULL || n->type != YAML_SCALAR_NODE)
        return NULL;
    return (const char *)n->data.scalar.value;
}

bool task_yaml_number(yaml_node_t *n, double *out)
{
    const char *s = task_yaml_str(n);
    char *end;
    if (s == NULL || *s == '\0')
        return false;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (*end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

bool task_yaml_bool(yaml_node_t *n, bool *out)
{
    const char *s = task_yaml_str(n);
    static const char *yes[] = { "true", "yes", "on" }, *no[] = { "false", "no", "off" };
    if (s == NULL)
        return false;
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

int task_yaml_line(const yaml_node_t *n)
{
    return n ? (int)n->start_mark.line : 0;
}
