// Package reference parses image references the way Docker does.
//
// A reference names an image in a registry:
//
//	[DOMAIN/]PATH[:TAG][@DIGEST]
//
//	ubuntu                    → docker.io/library/ubuntu:latest
//	user/app:1.0              → docker.io/user/app:1.0
//	host:5000/a/b:tag         → host:5000/a/b:tag
//	name@sha256:…             → docker.io/library/name@sha256:…
//
// The first path component is a domain only when it looks like one: it
// holds a "." or a ":", or is "localhost", or has an upper-case letter
// (path components never do). Otherwise the domain is Docker Hub,
// "docker.io", and a single-component name lives under "library/" (the
// official images). The grammar is distribution's reference/regexp.go.
//
// Lesson 08 (lessons/08-images.md) teaches it.
package reference

import (
	_ "crypto/sha256" // the digest algorithms a reference may name: the same in every program
	_ "crypto/sha512"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
)

// DefaultDomain is the domain of references that name none: Docker Hub.
const DefaultDomain = "docker.io"

// DefaultTag is the tag of references that give neither tag nor digest.
const DefaultTag = "latest"

// Errors, with distribution's own wording (what `docker pull` prints).
var (
	ErrInvalidFormat = errors.New("invalid reference format")
	ErrTagFormat     = errors.New("invalid tag format")
	ErrUppercase     = errors.New("repository name must be lowercase")
	ErrNameEmpty     = errors.New("repository name must have at least one component")
	ErrNameTooLong   = errors.New("repository name must not be more than 255 characters")
)

// The grammar, from distribution/reference/regexp.go.
const (
	alnum         = `[a-z0-9]+`
	separator     = `(?:[._]|__|[-]+)`
	pathComponent = alnum + `(?:` + separator + alnum + `)*`
	domainName    = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*`
	ipv6          = `\[(?:[a-fA-F0-9:]+)\]`
	domainAndPort = `(?:` + domainName + `|` + ipv6 + `)(?::[0-9]+)?`
	namePat       = `(?:` + domainAndPort + `/)?` + pathComponent + `(?:/` + pathComponent + `)*`
	tagPat        = `[\w][\w.-]{0,127}`
	digestPat     = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}`
)

// The expressions are compiled on first use, not at start-up: every
// program that links this package (a container's monitor among them)
// would otherwise pay their compilation, about half a millisecond and
// 270 KB of heap, before main.
var (
	referenceRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(` + namePat + `)(?::(` + tagPat + `))?(?:@(` + digestPat + `))?$`)
	})
	tagRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^` + tagPat + `$`) })
)

// isHex64 reports whether s is 64 lower-case hex digits (an image ID,
// which Docker refuses as a repository name).
func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Reference is a parsed, normalized image reference.
type Reference struct {
	Domain string        // "docker.io", "127.0.0.1:5000"
	Path   string        // "library/ubuntu"
	Tag    string        // "latest"; empty when only a digest was given
	Digest digest.Digest // set for name@sha256:…
}

// Parse parses s with Docker's rules and normalizes it: default domain,
// "library/" for official images, tag "latest" when there is neither tag
// nor digest.
func Parse(s string) (Reference, error) {
	if isHex64(s) {
		return Reference{}, fmt.Errorf("invalid repository name (%s), cannot specify 64-byte hexadecimal strings", s)
	}
	// Split the domain off the way Docker's splitDockerDomain does.
	domain, remainder := DefaultDomain, s
	if i := strings.IndexRune(s, '/'); i != -1 {
		if first := s[:i]; isDomain(first) {
			domain, remainder = first, s[i+1:]
		}
	}
	if domain == "index.docker.io" {
		domain = DefaultDomain
	}
	if domain == DefaultDomain && !strings.ContainsRune(nameOf(remainder), '/') {
		remainder = "library/" + remainder
	}
	if n := nameOf(remainder); strings.ToLower(n) != n {
		return Reference{}, fmt.Errorf("%w: %w", ErrInvalidFormat, ErrUppercase)
	}
	full := domain + "/" + remainder
	m, ok := matchPlain(full)
	if !ok {
		m = referenceRE().FindStringSubmatch(full)
	}
	if m == nil {
		if s == "" {
			return Reference{}, fmt.Errorf("%w: %w", ErrInvalidFormat, ErrNameEmpty)
		}
		if i := strings.LastIndex(s, ":"); i > strings.LastIndex(s, "/") && !strings.Contains(s[i:], "@") && i+1 < len(s) && !tagRE().MatchString(s[i+1:]) {
			return Reference{}, fmt.Errorf("%w: %w", ErrInvalidFormat, ErrTagFormat)
		}
		return Reference{}, ErrInvalidFormat
	}
	r := Reference{Domain: domain, Tag: m[2]}
	r.Path = strings.TrimPrefix(m[1], domain+"/")
	if len(m[1]) > 255 {
		return Reference{}, fmt.Errorf("%w: %w", ErrInvalidFormat, ErrNameTooLong)
	}
	if m[3] != "" {
		d, err := digest.Parse(m[3])
		if err != nil {
			return Reference{}, fmt.Errorf("%w: %v", ErrInvalidFormat, err)
		}
		r.Digest = d
	}
	if r.Tag == "" && r.Digest == "" {
		r.Tag = DefaultTag
	}
	return r, nil
}

// matchPlain is referenceRE's match for the references almost every
// command line names (debian, user/app:1.0, localhost:5000/a/b:c),
// checked by hand: compiling the expression costs about a millisecond
// of every run's start. It answers only for a domain of letters and
// digits with dots and an optional port, path components as the grammar
// has them, an optional tag and no digest, where the match is certain,
// giving the same submatches; ok false means "ask the expression", not
// "invalid".
func matchPlain(full string) (m []string, ok bool) {
	if strings.ContainsRune(full, '@') {
		return nil, false
	}
	name, tag := full, ""
	if i := strings.LastIndexByte(full, ':'); i > strings.LastIndexByte(full, '/') {
		name, tag = full[:i], full[i+1:]
		if !isTag(tag) {
			return nil, false
		}
	}
	domain, path, _ := strings.Cut(name, "/")
	host, port, hasPort := strings.Cut(domain, ":")
	if !isPlainHost(host) || hasPort && !isDigits(port) {
		return nil, false
	}
	for _, c := range strings.Split(path, "/") {
		if !isPathComponent(c) {
			return nil, false
		}
	}
	return []string{full, name, tag, ""}, true
}

// isPlainHost: labels of ASCII letters and digits joined by single dots
// (the grammar's domainName, less its hyphens).
func isPlainHost(s string) bool {
	for _, label := range strings.Split(s, ".") {
		if label == "" || strings.IndexFunc(label, func(r rune) bool { return !isAlnum(r) }) != -1 {
			return false
		}
	}
	return true
}

// isPathComponent is the grammar's pathComponent: lower-case letters and
// digits, runs of them joined by ".", "_", "__" or any number of "-".
func isPathComponent(s string) bool {
	for i := 0; ; {
		j := i
		for j < len(s) && ('a' <= s[j] && s[j] <= 'z' || '0' <= s[j] && s[j] <= '9') {
			j++
		}
		if j == i {
			return false
		}
		if j == len(s) {
			return true
		}
		switch k := j + 1; s[j] {
		case '.':
			i = k
		case '_':
			if k < len(s) && s[k] == '_' {
				k++
			}
			i = k
		case '-':
			for k < len(s) && s[k] == '-' {
				k++
			}
			i = k
		default:
			return false
		}
	}
}

// isTag is the grammar's tag: a word character, then up to 127 more of
// them, dots and dashes.
func isTag(s string) bool {
	if s == "" || len(s) > 128 || s[0] == '.' || s[0] == '-' {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool { return !isAlnum(r) && r != '_' && r != '.' && r != '-' }) == -1
}

func isAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}

func isDigits(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) == -1
}

// isDomain says whether the first component of a reference names a
// registry rather than a path: it has a dot or a port, is localhost, or
// has upper case (which a path may not).
func isDomain(first string) bool {
	return strings.ContainsAny(first, ".:") || first == "localhost" || strings.ToLower(first) != first
}

// DefaultTagged reports whether s names neither tag nor digest, so that
// Parse gave it the tag "latest" (Docker then says "Using default tag").
func DefaultTagged(s string) bool {
	i := strings.LastIndex(s, "/")
	return !strings.Contains(s[i+1:], ":") && !strings.Contains(s, "@")
}

// nameOf cuts the tag and digest off a reference (without domain).
func nameOf(s string) string {
	if i := strings.IndexRune(s, '@'); i != -1 {
		s = s[:i]
	}
	if i := strings.LastIndex(s, ":"); i != -1 && !strings.Contains(s[i:], "/") {
		s = s[:i]
	}
	return s
}

// Name is the repository: domain and path, "docker.io/library/ubuntu".
func (r Reference) Name() string { return r.Domain + "/" + r.Path }

// String is the full normalized reference,
// "docker.io/library/ubuntu:latest" or "…@sha256:…".
func (r Reference) String() string { return r.Name() + r.suffix() }

// FamiliarName is the repository as Docker shows it: "ubuntu",
// "user/app", "host:5000/a/b".
func (r Reference) FamiliarName() string {
	// A Docker Hub path whose first component reads as a registry
	// (docker.io/0.0/x) keeps its domain: "0.0/x" would name another.
	if first, _, _ := strings.Cut(r.Path, "/"); r.Domain != DefaultDomain || isDomain(first) {
		return r.Name()
	}
	if p := strings.TrimPrefix(r.Path, "library/"); !strings.ContainsRune(p, '/') {
		return p
	}
	return r.Path
}

// Familiar is the reference as Docker shows it: "ubuntu:latest".
func (r Reference) Familiar() string { return r.FamiliarName() + r.suffix() }

// suffix is what follows the repository: ":tag", "@digest" or both.
func (r Reference) suffix() string {
	s := ""
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest.String()
	}
	return s
}

// TagOrDigest is what a manifest is fetched by: the digest when pinned,
// the tag otherwise.
func (r Reference) TagOrDigest() string {
	if r.Digest != "" {
		return r.Digest.String()
	}
	return r.Tag
}
