#include "shared.h"
#include "common.h"
