// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"

#define JSON_MAX_DEPTH 16

/*
 * A top-level value is built in buf and written in one fwrite when it is
 * complete: a call into stdio per character, comma and number was most
 * of the loader's time with --json (a line per allocation, 1 M lines for
 * 1 M pairs). It also keeps writers that share a file from interleaving
 * inside a line.
 */
struct json_writer {
	FILE *out;
	char *buf;
	size_t len;
	size_t cap;
	bool failed; /* a memory writer ran out of memory: its text is cut */
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

static void flush(struct json_writer *w)
{
	if (!w->out)
		return; /* a memory writer keeps it all */
	if (w->len)
		fwrite(w->buf, 1, w->len, w->out);
	w->len = 0;
}

const char *json_writer__text(const struct json_writer *w, size_t *len)
{
	*len = w->failed ? 0 : w->len;
	return w->buf && !w->failed ? w->buf : "";
}

void json_writer__free(struct json_writer *w)
{
	if (!w)
		return;
	flush(w);
	free(w->buf);
	free(w);
}

static void put_bytes(struct json_writer *w, const void *bytes, size_t n)
{
	size_t cap;
	char *buf;

	if (w->len + n > w->cap) {
		cap = w->cap ? w->cap : 4096;
		while (cap < w->len + n)
			cap *= 2;
		buf = realloc(w->buf, cap);
		if (!buf) { /* out of memory: straight to the file */
			flush(w);
			if (w->out)
				fwrite(bytes, 1, n, w->out);
			else
				w->failed = true;
			return;
		}
		w->buf = buf;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, bytes, n);
	w->len += n;
}

static void put_char(struct json_writer *w, char c)
{
	if (w->len < w->cap)
		w->buf[w->len++] = c;
	else
		put_bytes(w, &c, 1);
}

static void put_text(struct json_writer *w, const char *text)
{
	put_bytes(w, text, strlen(text));
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

/* The escape of byte c, or NULL if it goes out as it is. */
static const char *escape_of(unsigned char c)
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	}
	return NULL;
}

/* text quoted and escaped; runs of bytes that need no escape in one
 * copy */
static void put_string(struct json_writer *w, const char *text)
{
	const unsigned char *s = (const unsigned char *)text, *run = s;
	char code[8];
	const char *escape;
	int len;

	put_char(w, '"');
	while (*s) {
		if (*s >= 0x20 && *s < 0x7f && *s != '"' && *s != '\\') {
			s++;
			continue;
		}
		len = escape_of(*s) || *s < 0x20 || *s == 0x7f ? 0 :
								 utf8_length(s);
		if (len) {
			s += len;
			continue;
		}
		put_bytes(w, run, s - run);
		escape = escape_of(*s);
		if (!escape) {
			snprintf(code, sizeof(code), "\\u%04x", *s);
			escape = code;
		}
		put_text(w, escape);
		run = ++s;
	}
	put_bytes(w, run, s - run);
	put_char(w, '"');
}

void json__write_string(FILE *out, const char *text)
{
	struct json_writer w = { .out = out };

	put_string(&w, text);
	flush(&w);
	free(w.buf);
}

/* in decimal: the divisions by a constant are multiplications */
static void put_dec(struct json_writer *w, uint64_t value)
{
	char digits[20], *p = digits + sizeof(digits);

	do {
		*--p = (char)('0' + value % 10);
		value /= 10;
	} while (value);
	put_bytes(w, p, digits + sizeof(digits) - p);
}

static void put_hex(struct json_writer *w, uint64_t value)
{
	char digits[16], *p = digits + sizeof(digits);

	do {
		*--p = "0123456789abcdef"[value & 15];
		value >>= 4;
	} while (value);
	put_bytes(w, p, digits + sizeof(digits) - p);
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
			put_char(w, ',');
		w->has_member[w->depth - 1] = true;
	}
}

static void json_value_done(struct json_writer *w)
{
	if (w->depth == 0) {
		put_char(w, '\n');
		flush(w);
	}
}

static void json_open(struct json_writer *w, char bracket)
{
	json_prefix(w);
	put_char(w, bracket);
	if (w->depth < JSON_MAX_DEPTH)
		w->has_member[w->depth] = false;
	w->depth++;
}

static void json_close(struct json_writer *w, char bracket)
{
	if (w->depth > 0)
		w->depth--;
	put_char(w, bracket);
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
	put_string(w, key);
	put_char(w, ':');
	w->after_key = true;
}

void json__string(struct json_writer *w, const char *value)
{
	json_prefix(w);
	put_string(w, value);
	json_value_done(w);
}

void json__u64(struct json_writer *w, uint64_t value)
{
	json_prefix(w);
	put_dec(w, value);
	json_value_done(w);
}

void json__i64(struct json_writer *w, int64_t value)
{
	json_prefix(w);
	if (value < 0)
		put_char(w, '-');
	put_dec(w, value < 0 ? -(uint64_t)value : (uint64_t)value);
	json_value_done(w);
}

void json__double(struct json_writer *w, double value)
{
	char text[32];

	json_prefix(w);
	if (isfinite(value))
		snprintf(text, sizeof(text), "%.6g", value);
	else
		snprintf(text, sizeof(text), "null");
	put_text(w, text);
	json_value_done(w);
}

void json__hex(struct json_writer *w, uint64_t value)
{
	json_prefix(w);
	put_text(w, "\"0x");
	put_hex(w, value);
	put_char(w, '"');
	json_value_done(w);
}

void json__raw(struct json_writer *w, const char *text, size_t len)
{
	json_prefix(w);
	put_bytes(w, text, len);
	json_value_done(w);
}

void json__bool(struct json_writer *w, bool value)
{
	json_prefix(w);
	put_text(w, value ? "true" : "false");
	json_value_done(w);
}

void json__null(struct json_writer *w)
{
	json_prefix(w);
	put_text(w, "null");
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
