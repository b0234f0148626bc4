/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small JSON writer for JSON Lines: objects and arrays nest, commas are
 * placed by the writer, a top-level value ends with a newline.
 */
#ifndef PAGETRACE_JSON_H
#define PAGETRACE_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json_writer;

struct json_writer *json_writer__new(FILE *out);
void json_writer__free(struct json_writer *w);

/* A writer that keeps what it writes (NULL out): json_writer__text()
 * returns it, top-level values each ending with a newline; nothing if it
 * ran out of memory. */
const char *json_writer__text(const struct json_writer *w, size_t *len);

/* A complete value written beforehand (text of len bytes, no newline). */
void json__raw(struct json_writer *w, const char *text, size_t len);

void json__begin_object(struct json_writer *w);
void json__end_object(struct json_writer *w);
void json__begin_array(struct json_writer *w);
void json__end_array(struct json_writer *w);
void json__key(struct json_writer *w, const char *key);

void json__string(struct json_writer *w, const char *value);
void json__u64(struct json_writer *w, uint64_t value);
void json__i64(struct json_writer *w, int64_t value);
void json__double(struct json_writer *w, double value);
void json__hex(struct json_writer *w, uint64_t value); /* "0x1f" */
void json__bool(struct json_writer *w, bool value);
void json__null(struct json_writer *w);

/* key + value in one call */
void json__kv_string(struct json_writer *w, const char *key, const char *v);
void json__kv_u64(struct json_writer *w, const char *key, uint64_t v);
void json__kv_i64(struct json_writer *w, const char *key, int64_t v);
void json__kv_hex(struct json_writer *w, const char *key, uint64_t v);
void json__kv_bool(struct json_writer *w, const char *key, bool v);

/*
 * Write text as a JSON string, quotes included. Bytes that are not valid
 * UTF-8 (paths can hold any byte) are written as \u00XX so the output
 * always parses.
 */
void json__write_string(FILE *out, const char *text);

#endif
