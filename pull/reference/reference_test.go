package reference

import (
	"errors"
	"testing"
)

func TestParseNormalizes(t *testing.T) {
	const d = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	tests := []struct{ in, full, familiar, path, domain string }{
		{"ubuntu", "docker.io/library/ubuntu:latest", "ubuntu:latest", "library/ubuntu", "docker.io"},
		{"ubuntu:22.04", "docker.io/library/ubuntu:22.04", "ubuntu:22.04", "library/ubuntu", "docker.io"},
		{"user/app:1.0", "docker.io/user/app:1.0", "user/app:1.0", "user/app", "docker.io"},
		{"docker.io/library/debian:bookworm", "docker.io/library/debian:bookworm", "debian:bookworm", "library/debian", "docker.io"},
		{"index.docker.io/library/debian", "docker.io/library/debian:latest", "debian:latest", "library/debian", "docker.io"},
		{"host:5000/a/b:tag", "host:5000/a/b:tag", "host:5000/a/b:tag", "a/b", "host:5000"},
		{"localhost/app", "localhost/app:latest", "localhost/app:latest", "app", "localhost"},
		{"127.0.0.1:5000/library/busybox", "127.0.0.1:5000/library/busybox:latest", "127.0.0.1:5000/library/busybox:latest", "library/busybox", "127.0.0.1:5000"},
		{"[::1]:5000/x", "[::1]:5000/x:latest", "[::1]:5000/x:latest", "x", "[::1]:5000"},
		{"name@" + d, "docker.io/library/name@" + d, "name@" + d, "library/name", "docker.io"},
		{"a/b:t@" + d, "docker.io/a/b:t@" + d, "a/b:t@" + d, "a/b", "docker.io"},
		{"ab-c__d/e.f", "docker.io/ab-c__d/e.f:latest", "ab-c__d/e.f:latest", "ab-c__d/e.f", "docker.io"},
		{"a.b/e", "a.b/e:latest", "a.b/e:latest", "e", "a.b"},
	}
	for _, tt := range tests {
		r, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if r.String() != tt.full || r.Familiar() != tt.familiar || r.Path != tt.path || r.Domain != tt.domain {
			t.Errorf("Parse(%q) = %q (familiar %q, path %q, domain %q), want %q %q %q %q",
				tt.in, r.String(), r.Familiar(), r.Path, r.Domain, tt.full, tt.familiar, tt.path, tt.domain)
		}
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		in   string
		want error
		msg  string
	}{
		{"", ErrNameEmpty, "invalid reference format: repository name must have at least one component"},
		{"Ubuntu", ErrUppercase, "invalid reference format: repository name must be lowercase"},
		{"user/App", ErrUppercase, "invalid reference format: repository name must be lowercase"},
		{"ubuntu:-bad", ErrTagFormat, "invalid reference format: invalid tag format"},
		{"ubuntu:", ErrInvalidFormat, "invalid reference format"},
		{"-ubuntu", ErrInvalidFormat, "invalid reference format"},
		{"a//b", ErrInvalidFormat, "invalid reference format"},
		{"a/b/", ErrInvalidFormat, "invalid reference format"},
		{"ubuntu@sha256:abc", ErrInvalidFormat, "invalid reference format"},
		{"host:5000/a__-b", ErrInvalidFormat, "invalid reference format"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want %v", tt.in, tt.want)
			continue
		}
		if !errors.Is(err, tt.want) || err.Error() != tt.msg {
			t.Errorf("Parse(%q) = %q, want %q", tt.in, err, tt.msg)
		}
	}
	long := "a/"
	for len(long) < 260 {
		long += "abcdefghij"
	}
	if _, err := Parse(long); !errors.Is(err, ErrNameTooLong) {
		t.Errorf("Parse(260 chars) = %v, want %v", err, ErrNameTooLong)
	}
	hex := "1111111111111111111111111111111111111111111111111111111111111111"
	if _, err := Parse(hex); err == nil {
		t.Errorf("Parse(64 hex) succeeded, want an error")
	}
}

func TestDefaultTagged(t *testing.T) {
	for s, want := range map[string]bool{"ubuntu": true, "host:5000/a": true, "ubuntu:22.04": false, "host:5000/a:b": false, "a@sha256:00": false} {
		if got := DefaultTagged(s); got != want {
			t.Errorf("DefaultTagged(%q) = %v, want %v", s, got, want)
		}
	}
}
