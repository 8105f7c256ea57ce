package kernels

// introduced records the release that added a call, where it is
// documented (SPEC.md §9 and the kernel's history) rather than measured:
// the catalogue skips 6.2-6.11 and 6.13-7.1, whose packages no reachable
// archive has. A test checks each entry against the BTF tables (absent on
// every older catalogued kernel, present on every newer one).
var introduced = map[string]string{
	"bpf_obj_new_impl":   "6.2",
	"bpf_obj_drop_impl":  "6.2",
	"bpf_list_pop_front": "6.2",
	"bpf_list_pop_back":  "6.2",
	"bpf_rbtree_first":   "6.3",
	"bpf_rbtree_remove":  "6.3",

	"bpf_refcount_acquire_impl": "6.4",
	"bpf_list_push_front_impl":  "6.4",
	"bpf_list_push_back_impl":   "6.4",
	"bpf_rbtree_add_impl":       "6.4",
	"bpf_percpu_obj_new_impl":   "6.6",
	"bpf_percpu_obj_drop_impl":  "6.6",

	"bpf_res_spin_lock":              "6.15",
	"bpf_res_spin_unlock":            "6.15",
	"bpf_res_spin_lock_irqsave":      "6.15",
	"bpf_res_spin_unlock_irqrestore": "6.15",
	"bpf_rbtree_root":                "6.16",
	"bpf_rbtree_left":                "6.16",
	"bpf_rbtree_right":               "6.16",
	"bpf_list_front":                 "6.16",
	"bpf_list_back":                  "6.16",

	"bpf_obj_new":          "7.1",
	"bpf_obj_drop":         "7.1",
	"bpf_refcount_acquire": "7.1",
	"bpf_percpu_obj_new":   "7.1",
	"bpf_percpu_obj_drop":  "7.1",
	"bpf_list_push_front":  "7.1",
	"bpf_list_push_back":   "7.1",
	"bpf_rbtree_add":       "7.1",
	"bpf_list_add":         "7.2",
	"bpf_list_del":         "7.2",
	"bpf_list_is_first":    "7.2",
	"bpf_list_is_last":     "7.2",
	"bpf_list_empty":       "7.2",
}

// Since names the first release with a call: the documented one when
// known, else the oldest catalogued kernel that has it ("" for neither).
func Since(kind, name string) string {
	if v, ok := introduced[name]; ok && kind == Kfunc {
		return v
	}
	return FirstWith(kind, name)
}
