package image

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ParsePlatform parses "os/arch[/variant]" (Docker's --platform). An
// empty string means the host's platform.
func ParsePlatform(s string) (ocispec.Platform, error) {
	if s == "" {
		return HostPlatform(), nil
	}
	parts := strings.Split(strings.ToLower(s), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return ocispec.Platform{}, fmt.Errorf("invalid platform %q: want os/arch[/variant], like linux/amd64 or linux/arm64/v8", s)
	}
	p := ocispec.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return normalize(p), nil
}

// HostPlatform is the platform this program runs on.
func HostPlatform() ocispec.Platform {
	p := ocispec.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}
	if p.Architecture == "arm" {
		p.Variant = "v7"
	}
	return normalize(p)
}

// normalize applies containerd's equivalences: arm64 means arm64/v8,
// amd64/v1 is amd64.
func normalize(p ocispec.Platform) ocispec.Platform {
	switch {
	case p.Architecture == "aarch64":
		p.Architecture = "arm64"
	case p.Architecture == "x86_64", p.Architecture == "x86-64":
		p.Architecture = "amd64"
	}
	if p.Architecture == "arm64" && p.Variant == "" {
		p.Variant = "v8"
	}
	if p.Architecture == "amd64" && p.Variant == "v1" {
		p.Variant = ""
	}
	return p
}

// PlatformString prints a platform as Docker does: "linux/arm64/v8".
func PlatformString(p ocispec.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// matches reports whether an index entry's platform runs on want.
func matches(have *ocispec.Platform, want ocispec.Platform) bool {
	if have == nil {
		return false
	}
	h := normalize(*have)
	return h.OS == want.OS && h.Architecture == want.Architecture && (want.Variant == "" || h.Variant == want.Variant)
}

// ChoosePlatform picks the manifest of an index for want, with an error
// that lists what the index offers when nothing matches.
func ChoosePlatform(idx ocispec.Index, want ocispec.Platform) (ocispec.Descriptor, error) {
	var offers []string
	for _, m := range idx.Manifests {
		if m.Platform == nil || m.Platform.OS == "unknown" {
			continue // attestations and other non-images
		}
		if matches(m.Platform, want) {
			return m, nil
		}
		offers = append(offers, PlatformString(normalize(*m.Platform)))
	}
	if len(offers) == 0 {
		offers = []string{"no platform at all"}
	}
	return ocispec.Descriptor{}, fmt.Errorf("no matching manifest for %s in the manifest list entries (the image offers %s)",
		PlatformString(want), strings.Join(offers, ", "))
}

// ImportPlatform reads docker import's --platform (the API's platform)
// as Docker does: the host's when empty, an OS alone keeps the host's
// architecture, and only linux images are made ("operating system is
// not supported").
func ImportPlatform(v string) (ocispec.Platform, error) {
	host := HostPlatform()
	if v == "" {
		return host, nil
	}
	p := ocispec.Platform{OS: strings.ToLower(v), Architecture: host.Architecture, Variant: host.Variant}
	if strings.Contains(v, "/") {
		var err error
		if p, err = ParsePlatform(v); err != nil {
			return p, err
		}
	}
	if p.OS != "linux" {
		return p, errors.New("operating system is not supported") // Docker's words
	}
	return p, nil
}
