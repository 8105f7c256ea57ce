#pragma once
#include "cycle_b.h"
