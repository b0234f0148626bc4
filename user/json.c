// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include "json.h"

#define JSON_MAX_DEPTH 16

struct json_writer {
	FILE *out;
	int depth;
	/* per open container: has it a first member yet */
	bool has_member[JSON_MAX_DEPTH];
	bool after_key;
};

struct json_writer *json_writer__new(FILE *out)
{
	struct json_writer *w = calloc(1, sizeof(*w));

	if (w)
		w->out = out;
	return w;
}

void json_writer__free(struct json_writer *w)
{
	free(w);
}

/* length of the UTF-8 sequence starting at s, 0 if it is not valid */
static int utf8_length(const unsigned char *s)
{
	int len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and values past U+10FFFF */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void json__write_string(FILE *out, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	int len;

	fputc('"', out);
	while (*s) {
		switch (*s) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		case '\b':
			fputs("\\b", out);
			break;
		case '\f':
			fputs("\\f", out);
			break;
		default:
			if (*s < 0x20 || *s == 0x7f) {
				fprintf(out, "\\u%04x", *s);
				break;
			}
			len = utf8_length(s);
			if (!len) {
				fprintf(out, "\\u%04x", *s);
				break;
			}
			fwrite(s, 1, len, out);
			s += len;
			continue;
		}
		s++;
	}
	fputc('"', out);
}

/* separator before a value or a key */
static void json_prefix(struct json_writer *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth > 0) {
		if (w->has_member[w->depth - 1])
			fputc(',', w->out);
		w->has_member[w->depth - 1] = true;
	}
}

static void json_value_done(struct json_writer *w)
{
	if (w->depth == 0)
		fputc('\n', w->out);
}

static void json_open(struct json_writer *w, char bracket)
{
	json_prefix(w);
	fputc(bracket, w->out);
	if (w->depth < JSON_MAX_DEPTH)
		w->has_member[w->depth] = false;
	w->depth++;
}

static void json_close(struct json_writer *w, char bracket)
{
	if (w->depth > 0)
		w->depth--;
	fputc(bracket, w->out);
	json_value_done(w);
}

void json__begin_object(struct json_writer *w)
{
	json_open(w, '{');
}

void json__end_object(struct json_writer *w)
{
	json_close(w, '}');
}

void json__begin_array(struct json_writer *w)
{
	json_open(w, '[');
}

void json__end_array(struct json_writer *w)
{
	json_close(w, ']');
}

void json__key(struct json_writer *w, const char *key)
{
	json_prefix(w);
	json__write_string(w->out, key);
	fputc(':', w->out);
	w->after_key = true;
}

void json__string(struct json_writer *w, const char *value)
{
	json_prefix(w);
	json__write_string(w->out, value);
	json_value_done(w);
}

void json__u64(struct json_writer *w, uint64_t value)
{
	json_prefix(w);
	fprintf(w->out, "%" PRIu64, value);
	json_value_done(w);
}

void json__i64(struct json_writer *w, int64_t value)
{
	json_prefix(w);
	fprintf(w->out, "%" PRId64, value);
	json_value_done(w);
}

void json__double(struct json_writer *w, double value)
{
	json_prefix(w);
	if (isfinite(value))
		fprintf(w->out, "%.6g", value);
	else
		fputs("null", w->out);
	json_value_done(w);
}

void json__hex(struct json_writer *w, uint64_t value)
{
	json_prefix(w);
	fprintf(w->out, "\"0x%" PRIx64 "\"", value);
	json_value_done(w);
}

void json__bool(struct json_writer *w, bool value)
{
	json_prefix(w);
	fputs(value ? "true" : "false", w->out);
	json_value_done(w);
}

void json__null(struct json_writer *w)
{
	json_prefix(w);
	fputs("null", w->out);
	json_value_done(w);
}

void json__kv_string(struct json_writer *w, const char *key, const char *v)
{
	json__key(w, key);
	json__string(w, v);
}

void json__kv_u64(struct json_writer *w, const char *key, uint64_t v)
{
	json__key(w, key);
	json__u64(w, v);
}

void json__kv_i64(struct json_writer *w, const char *key, int64_t v)
{
	json__key(w, key);
	json__i64(w, v);
}

void json__kv_hex(struct json_writer *w, const char *key, uint64_t v)
{
	json__key(w, key);
	json__hex(w, v);
}

void json__kv_bool(struct json_writer *w, const char *key, bool v)
{
	json__key(w, key);
	json__bool(w, v);
}
