/* The main of a unit test binary (declared in fixture.h). Apart from
 * fixture.c, whose helper names check.h's macros would shadow. */
#include <check.h>

#include "fixture.h"

int fx_suite_main(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
