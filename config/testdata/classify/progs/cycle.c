/* Plain C whose headers include each other: not a program. */
#include "cycle_a.h"
int f(void) { return 0; }
