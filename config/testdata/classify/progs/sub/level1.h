#include <proj/maps.h>
