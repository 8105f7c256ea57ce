#pragma once
#include "cycle_a.h"
