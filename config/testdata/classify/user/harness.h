#include <stdio.h>
#include "../progs/common.h"
