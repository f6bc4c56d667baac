package filters

import (
	"strings"
	"testing"
)

func TestParseAndMatch(t *testing.T) {
	a, err := Parse([]string{"status=exited", "status=running", "label=tier=web", "label=a", "name=^/?demo$"})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Any("status", func(v string) bool { return v == "running" }) || a.Any("status", func(v string) bool { return v == "paused" }) {
		t.Error("status values are not OR-ed")
	}
	if !a.MatchLabels(map[string]string{"tier": "web", "a": ""}) || a.MatchLabels(map[string]string{"tier": "web"}) || a.MatchLabels(map[string]string{"tier": "db", "a": "1"}) {
		t.Error("labels are not AND-ed by key and value")
	}
	if !a.Match("name", "demo") || !a.Match("name", "/demo") || a.Match("name", "demo2") {
		t.Error("name is not a regular expression")
	}
	if !a.Any("id", func(string) bool { return false }) {
		t.Error("a key not given constrains nothing")
	}
	if err := a.Validate("status", "name"); err == nil || err.Error() != "Invalid filter 'label'" {
		t.Errorf("Validate: %v", err)
	}
	if _, err := Parse([]string{"name"}); err == nil || !strings.Contains(err.Error(), "bad format of filter (expected name=value)") {
		t.Errorf("no '=': %v", err)
	}
	if _, _, err := (Args{"dangling": {"maybe"}}).Bool("dangling"); err == nil || err.Error() != "Invalid filter 'dangling=[maybe]'" {
		t.Errorf("Bool: %v", err)
	}
	if v, ok, err := (Args{"dangling": {"true"}}).Bool("dangling"); !v || !ok || err != nil {
		t.Error("dangling=true")
	}
	for _, c := range []struct {
		pattern, name, tag string
		want               bool
	}{{"busybox", "busybox", "latest", true}, {"busy*", "busybox", "1", true}, {"busybox:1", "busybox", "latest", false}, {"*", "a/b", "x", false}, {"*/*", "a/b", "x", true}} {
		if got := MatchReference(c.pattern, c.name, c.tag); got != c.want {
			t.Errorf("MatchReference(%q, %s:%s) = %v", c.pattern, c.name, c.tag, got)
		}
	}
}

// FuzzParse: any --filter values parse or fail with an error, never a
// panic, and what parses matches without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"status=exited", "name=^/a[", "label=a=b", "=", "dangling=1", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(strings.Split(s, "\x00"))
		if err != nil {
			return
		}
		a.Match("name", s)
		a.MatchLabels(map[string]string{s: s})
		a.Bool("dangling")
		a.Validate("status")
		for _, vs := range a {
			for _, v := range vs {
				MatchReference(v, s, s)
			}
		}
	})
}
