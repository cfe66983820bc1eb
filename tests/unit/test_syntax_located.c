/* The syntax gate on a file that already has parse problems: only the
 * problems the patch introduced are reported, at the patched lines, with
 * the code around them; the base's are never listed as the model's. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "warden/context.h"
#include "warden/error.h"
#include "warden/fs.h"

/* A file tree-sitter cannot fully parse (a macro-heavy VM's style), with a
 * clean function far below its problems. */
static char *base_text(void)
{
	wd_buf b = WD_BUF_INIT;

	for (int i = 0; i < 30; i++)
		wd_buf_printf(&b, "OPCODE(op_%d) { vm_push(vm, %d) DISPATCH(); }\n"
		              "int broken_%d = ;\n", i, i, i);
	for (int i = 0; i < 200; i++)
		wd_buf_printf(&b, "static int filler_%d(int v)\n{\n\treturn v + %d;\n}\n\n", i, i);
	wd_buf_puts(&b, "int vm_step(struct vm *vm)\n{\n\treturn run(vm->pc, (vm->sp + 1));\n}\n");
	return wd_buf_detach(&b);
}

static size_t line_of(const char *text, const char *needle)
{
	const char *p = strstr(text, needle);
	size_t n = 1;

	ck_assert_ptr_nonnull(p);
	for (const char *q = text; q < p; q++)
		n += *q == '\n';
	return n;
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

START_TEST(only_the_patch_s_own_problem_is_reported_where_it_is)
{
	char *base = base_text(), *patched, *at;
	wd_buf b = WD_BUF_INIT, out = WD_BUF_INIT, want = WD_BUF_INIT;
	wd_syntax_file f;
	size_t line;

	/* the patch drops a ')' in vm_step, and adds two lines above it */
	at = strstr(base, "\treturn run(vm->pc, (vm->sp + 1));");
	wd_buf_put(&b, base, (size_t)(at - base));
	wd_buf_puts(&b, "\tint x = 1;\n\tx++;\n\treturn run(vm->pc, (vm->sp + 1);");
	wd_buf_puts(&b, at + strlen("\treturn run(vm->pc, (vm->sp + 1));"));
	patched = wd_buf_detach(&b);
	line = line_of(patched, "\treturn run(vm->pc, (vm->sp + 1);");
	f = (wd_syntax_file){ "src/vm.c", base, strlen(base), patched, strlen(patched) };
	ck_assert_int_eq(wd_syntax_check(&out, &f, 1), WD_EREFUSED);
	/* one problem, on the patched line, with its code around it */
	wd_buf_printf(&want, "src/vm.c:%zu:", line);
	ck_assert_msg(strstr(out.ptr, want.ptr) != NULL, "%s", out.ptr);
	ck_assert_uint_eq(count(out.ptr, ": syntax error"), 1);
	wd_buf_clear(&want);
	wd_buf_printf(&want, ">%5zu| \treturn run(vm->pc, (vm->sp + 1);\n", line);
	ck_assert_ptr_nonnull(strstr(out.ptr, want.ptr));
	/* none of the base's problems (lines 1-60), said once */
	for (int l = 1; l <= 60; l++) {
		wd_buf_clear(&want);
		wd_buf_printf(&want, "src/vm.c:%d:", l);
		ck_assert_msg(strstr(out.ptr, want.ptr) == NULL, "base problem listed: %s", out.ptr);
	}
	ck_assert_ptr_nonnull(strstr(out.ptr, "already in the file before the patch are not listed"));
	wd_buf_free(&out);
	wd_buf_free(&want);
	free(base);
	free(patched);
}
END_TEST

/* Found by fuzz_syntax: Python's external scanner kept state from the base's
 * parse, so the same text parsed a second time had one ERROR more and the
 * gate refused a file the patch did not change. */
START_TEST(the_same_python_text_parses_the_same_the_second_time)
{
	static const char src[] = "    7(x):\n  mpackcag  rec\nfpn func F`rut\x10n x\n{\nn\x09i\n}\nt g;\n";
	wd_syntax_file f = { "f.py", src, sizeof(src) - 1, src, sizeof(src) - 1 };
	wd_buf out = WD_BUF_INIT;

	for (int i = 0; i < 3; i++) {
		wd_buf_clear(&out);
		ck_assert_int_eq(wd_syntax_check(&out, &f, 1), 0);
		ck_assert_uint_eq(out.len, 0);
	}
	wd_buf_free(&out);
}
END_TEST

START_TEST(control_the_same_base_with_a_clean_patch_passes)
{
	char *base = base_text(), *patched;
	wd_buf b = WD_BUF_INIT, out = WD_BUF_INIT;
	wd_syntax_file f;

	/* lines added above the base's problems shift them all: still theirs */
	wd_buf_puts(&b, "#include <stdio.h>\n#include \"vm.h\"\n\n");
	wd_buf_puts(&b, base);
	patched = wd_buf_detach(&b);
	f = (wd_syntax_file){ "src/vm.c", base, strlen(base), patched, strlen(patched) };
	ck_assert_int_eq(wd_syntax_check(&out, &f, 1), 0);
	ck_assert_uint_eq(out.len, 0);
	wd_buf_free(&out);
	free(base);
	free(patched);
}
END_TEST

static Suite *syntax_located_suite(void)
{
	Suite *s = suite_create("syntax_located");
	TCase *tc = tcase_create("located");

	tcase_add_test(tc, only_the_patch_s_own_problem_is_reported_where_it_is);
	tcase_add_test(tc, control_the_same_base_with_a_clean_patch_passes);
	tcase_add_test(tc, the_same_python_text_parses_the_same_the_second_time);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(syntax_located_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
