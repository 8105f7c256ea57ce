#include <linux/module.h>
#include "../progs/shared_kfunc.h"

MODULE_LICENSE("GPL");
