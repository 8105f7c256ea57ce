#define MAX 4
#include "sub/level1.h"
