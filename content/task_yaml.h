/* task_yaml.h: small helpers over libyaml documents for task blocks and
 * exercise settings: lookups by key, typed scalars, file lines. */
#ifndef CAMPUS_TASK_YAML_H
#define CAMPUS_TASK_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

/* Loads the first YAML document of text. Returns 0 (caller deletes doc with
 * yaml_document_delete), or -1 with libyaml's message in err and its 0-based
 * line in *err_line. An empty text gives a document without a root. */
int task_yaml_load(const char *text, size_t len, yaml_document_t *doc, char *err,
                   size_t errlen, int *err_line);

/* The value of key in a mapping node, or NULL (also when map is not a
 * mapping). If key_node is not NULL it gets the key's node. */
yaml_node_t *task_yaml_get(yaml_document_t *doc, yaml_node_t *map, const char *key,
                           yaml_node_t **key_node);

/* The text of a scalar node, or NULL for other nodes. */
const char *task_yaml_str(yaml_node_t *n);

/* Parses a scalar as a finite number; false if it is not one. */
bool task_yaml_number(yaml_node_t *n, double *out);

/* Parses a scalar as true/false (also yes/no, on/off); false if neither. */
bool task_yaml_bool(yaml_node_t *n, bool *out);

/* 0-based line of a node in its YAML text. */
int task_yaml_line(const yaml_node_t *n);

#endif
