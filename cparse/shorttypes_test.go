package cparse

import "testing"

func TestShortTypes(t *testing.T) {
	for in, want := range map[string]string{
		"type struct inet_connection_sock {icsk_inet struct inet_sock; icsk_ack struct {pending __u8; ato __u32}; icsk_ca_priv array of 13 u64} has no member named icsk_timeout": "type struct inet_connection_sock has no member named icsk_timeout",
		"type struct {a int; b struct {c int}} has no member named d": "type struct {...} has no member named d",
		"type union u {a int} has no member named b":                  "type union u has no member named b",
		"undefined: foo":                     "undefined: foo",
		"type struct s {a int has no member": "type struct s {a int has no member", // unbalanced: kept
	} {
		if got := shortTypes(in); got != want {
			t.Errorf("shortTypes(%q)\n = %q\nwant %q", in, got, want)
		}
	}
}
