package spec

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"mini-docker/mini-docker/container"
)

// FuzzParseRestartPolicy: whatever --restart is given, a policy that is
// accepted is one Docker knows, with a retry count only for on-failure
// and never negative, and reads back the same from its own spelling.
func FuzzParseRestartPolicy(f *testing.F) {
	for _, s := range []string{"", "no", "always", "unless-stopped", "on-failure", "on-failure:3", "on-failure:-1", "always:0", ":1", "bogus", "on-failure:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseRestartPolicy(s)
		if err != nil {
			return
		}
		switch p.Name {
		case "", "no", "always", "unless-stopped":
			if p.MaximumRetryCount != 0 {
				t.Fatalf("%q: %s with a retry count %d", s, p.Name, p.MaximumRetryCount)
			}
		case "on-failure":
			if p.MaximumRetryCount < 0 {
				t.Fatalf("%q: negative retry count %d", s, p.MaximumRetryCount)
			}
		default:
			t.Fatalf("%q: accepted unknown policy %q", s, p.Name)
		}
		again, err := ParseRestartPolicy(string(p.Name) + ":" + strconv.Itoa(p.MaximumRetryCount))
		if p.Name != "" && (err != nil || again != p) {
			t.Fatalf("%q: %+v reads back as %+v, %v", s, p, again, err)
		}
	})
}

// TestMergeHealthcheck: the run's health flags over the image's
// HEALTHCHECK, field by field, as Docker's daemon merges them.
func TestMergeHealthcheck(t *testing.T) {
	image := &container.HealthConfig{Test: []string{"CMD", "true"}, Interval: time.Second, Retries: 5}
	if got := MergeHealthcheck(nil, image); !reflect.DeepEqual(got, image) || got == image {
		t.Errorf("no flags: %+v, want a copy of the image's", got)
	}
	got := MergeHealthcheck(&container.HealthConfig{Retries: 1, Timeout: time.Minute}, image)
	want := &container.HealthConfig{Test: []string{"CMD", "true"}, Interval: time.Second, Timeout: time.Minute, Retries: 1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merged: %+v, want %+v", got, want)
	}
	none := &container.HealthConfig{Test: []string{"NONE"}}
	if got := MergeHealthcheck(none, image); !reflect.DeepEqual(got.Test, none.Test) {
		t.Errorf("--no-healthcheck over an image's: %+v", got)
	}
	if got := MergeHealthcheck(none, nil); got != none {
		t.Errorf("no image check: %+v", got)
	}
}
