package app

import "testing"

func TestCredentialLinesAreNotRemembered(t *testing.T) {
	for line, secret := range map[string]bool{
		`password = "x"`:      true,
		`local passwd="x"`:    true,
		`cfg.secret = s`:      true,
		`t = {token = "abc"}`: true,
		`t["api_token"] = v`:  true,
		`etcd.connect{username = "u", password = "p"}`: true,
		`c = etcd.connect(opts_with_pass)`:             true,
		`x = 1`:                                        false,
		`etcd.put("tokens/list", "a")`:                 false,
		`etcd.connect{endpoints = {"a:1"}}`:            false,
	} {
		if got := credentialLine.MatchString(line); got != secret {
			t.Errorf("%q: credential %v, want %v", line, got, secret)
		}
	}
}

func TestStripEscapes(t *testing.T) {
	for in, want := range map[string]string{
		"x\x1b[A":        "x",
		"\x1b[1;5Cy = 1": "y = 1",
		"a\x1bOAb":       "ab",
		"plain":          "plain",
	} {
		if got := stripEscapes(in); got != want {
			t.Errorf("stripEscapes(%q) = %q, want %q", in, got, want)
		}
	}
}
