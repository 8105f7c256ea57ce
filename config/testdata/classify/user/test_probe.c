#include "harness.h"

#define SEC(name) __attribute__((section(name), used))
unsigned short probe_semaphore SEC(".probes");
