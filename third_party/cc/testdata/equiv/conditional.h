// Included by conditional.c.
#pragma once
#define ONE 1
#define FROM_HEADER(x) ((x) * (x))
int in_header;
