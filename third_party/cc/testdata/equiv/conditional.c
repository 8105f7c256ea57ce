// Conditional groups, defined, __has_include, arithmetic in #if and
// macros defined and undefined on the way (written for this test).
#include "conditional.h"
#if defined(ONE) && ONE + 1 == 2 && !defined TWO
int one_only;
#elif defined(TWO)
int two;
#else
int none;
#endif
#define TWO 2
#if TWO * 3 - 1 == 5 && (TWO << 4) == 32 && -1 < 0 && 0x10 == 16 && 'a' == 97
int arith;
#endif
#if (TWO > 1 ? 10 : 20) == 10 && (0 || 3) && !(0 && 1) && (7 % 4) == 3 && (~0 & 0xff) == 255
int ternary;
#endif
#ifdef UNDEFINED
#error not reached
#elif !defined(TWO)
int not_reached;
#elif __has_include("conditional.h") && !__has_include("missing.h")
int has_include;
#endif
#ifndef GUARDED
#define GUARDED
#  if 0
#    if 1
int nested_skipped;
#    endif
#  else
int nested_taken;
#  endif
#endif
#undef TWO
#ifdef TWO
int still_two;
#endif
#if FROM_HEADER(3) == 9
int from_header;
#endif
#define VER(a, b) ((a) * 100 + (b))
#if VER(6, 12) >= VER(6, 1)
int version_ok;
#endif
/* comment spanning
   two lines */ int after_comment; // line comment \
   continued
int spliced = 1 + \
2;
int id\
ent = 3;
