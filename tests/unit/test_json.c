// SPDX-License-Identifier: GPL-2.0
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "json.h"

/* what json__write_string makes of text */
static char *escaped(const char *text)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	json__write_string(f, text);
	fclose(f);
	return buf;
}

static void test_plain_and_quotes(void)
{
	char *s = escaped("a \"b\" \\c");

	CHECK_STR(s, "\"a \\\"b\\\" \\\\c\"");
	free(s);
}

static void test_control_characters(void)
{
	char *s = escaped("tab\there\nnew\x01\x7f");

	CHECK_STR(s, "\"tab\\there\\nnew\\u0001\\u007f\"");
	free(s);
}

static void test_utf8_kept_invalid_escaped(void)
{
	char *ok = escaped("caf\xc3\xa9 \xe2\x82\xac");
	char *bad = escaped("x\xff\xc3(y");
	char *overlong = escaped("\xc0\xaf");

	CHECK_STR(ok, "\"caf\xc3\xa9 \xe2\x82\xac\"");
	CHECK_STR(bad, "\"x\\u00ff\\u00c3(y\"");
	CHECK_STR(overlong, "\"\\u00c0\\u00af\"");
	free(ok);
	free(bad);
	free(overlong);
}

static void test_writer_nesting(void)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	struct json_writer *w = json_writer__new(f);

	json__begin_object(w);
	json__kv_string(w, "type", "alloc");
	json__kv_hex(w, "addr", 0x7f00);
	json__key(w, "by");
	json__begin_object(w);
	json__kv_u64(w, "zero", 1);
	json__kv_u64(w, "anon", 2);
	json__end_object(w);
	json__key(w, "list");
	json__begin_array(w);
	json__i64(w, -3);
	json__null(w);
	json__bool(w, true);
	json__end_array(w);
	json__end_object(w);
	json_writer__free(w);
	fclose(f);
	CHECK_STR(buf,
		  "{\"type\":\"alloc\",\"addr\":\"0x7f00\",\"by\":{\"zero\":1,"
		  "\"anon\":2},\"list\":[-3,null,true]}\n");
	free(buf);
}

/* numbers at their ends, written without printf */
static void test_number_limits(void)
{
	struct json_writer *w = json_writer__new(NULL);
	const char *text;
	char *buf;
	size_t len;

	json__begin_array(w);
	json__u64(w, 0);
	json__u64(w, UINT64_MAX);
	json__i64(w, INT64_MIN);
	json__i64(w, INT64_MAX);
	json__i64(w, 0);
	json__end_array(w);
	json__begin_object(w);
	json__kv_hex(w, "zero", 0);
	json__kv_hex(w, "max", UINT64_MAX);
	json__end_object(w);
	text = json_writer__text(w, &len);
	buf = strndup(text, len);
	json_writer__free(w);
	CHECK_STR(buf, "[0,18446744073709551615,-9223372036854775808,"
		       "9223372036854775807,0]\n"
		       "{\"zero\":\"0x0\",\"max\":\"0xffffffffffffffff\"}\n");
	free(buf);
}

/* a long run of plain bytes between escapes goes out whole */
static void test_runs_between_escapes(void)
{
	char *s = escaped("/usr/lib/x86_64-linux-gnu/libc.so.6\t\"q\"end");

	CHECK_STR(s, "\"/usr/lib/x86_64-linux-gnu/libc.so.6\\t\\\"q\\\"end\"");
	free(s);
}

/* a value written beforehand, kept by a memory writer, goes in as it is */
static void test_raw_from_memory_writer(void)
{
	struct json_writer *kept = json_writer__new(NULL);
	char *buf = NULL;
	size_t size = 0, len;
	FILE *f = open_memstream(&buf, &size);
	struct json_writer *w = json_writer__new(f);
	const char *text;

	json__begin_object(kept);
	json__kv_u64(kept, "line", 42);
	json__end_object(kept);
	text = json_writer__text(kept, &len);
	CHECK_U64(len, 12);
	json__begin_array(w);
	json__raw(w, text, len - 1);
	json__raw(w, text, len - 1);
	json__end_array(w);
	json_writer__free(w);
	json_writer__free(kept);
	fclose(f);
	CHECK_STR(buf, "[{\"line\":42},{\"line\":42}]\n");
	free(buf);
}

int main(void)
{
	RUN(test_plain_and_quotes);
	RUN(test_control_characters);
	RUN(test_utf8_kept_invalid_escaped);
	RUN(test_writer_nesting);
	RUN(test_number_limits);
	RUN(test_runs_between_escapes);
	RUN(test_raw_from_memory_writer);
	return check_summary();
}
