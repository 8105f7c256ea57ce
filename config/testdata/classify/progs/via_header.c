#include "common.h"

int counter;
