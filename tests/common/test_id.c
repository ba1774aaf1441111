/*
 * The one id rule (common/base/id.h): ^[A-Za-z0-9._:-]{1,64}$, NULL and "" refused.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "base/id.h"

Test(id, the_one_id_rule_holds_at_both_ends_of_its_length)
{
    cr_assert(cadence_id_valid("rep.ana-7:x_y"));
    cr_assert_not(cadence_id_valid(""));
    cr_assert_not(cadence_id_valid(NULL));
    cr_assert_not(cadence_id_valid("rep}:x"));
    cr_assert_not(cadence_id_valid("a b"));
    char long_id[80];
    memset(long_id, 'a', sizeof(long_id) - 1);
    long_id[CADENCE_ID_MAX_LEN] = '\0';
    cr_assert(cadence_id_valid(long_id), "64 characters are allowed");
    long_id[64] = 'a';
    long_id[65] = '\0';
    cr_assert_not(cadence_id_valid(long_id), "65 are not");
}

Test(id, every_allowed_character_passes_and_key_syntax_does_not)
{
    cr_assert(cadence_id_valid("AZaz09._:-"));
    const char *bad[] = {"{s0}", "a/b", "a*b", "caf\xc3\xa9", "a\nb", "a\"b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_not(cadence_id_valid(bad[i]), "%s", bad[i]);
}
