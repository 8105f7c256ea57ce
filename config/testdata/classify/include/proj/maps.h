/* Found only through the config's -Iinclude. */
struct {
	int type;
} events SEC(".maps");
