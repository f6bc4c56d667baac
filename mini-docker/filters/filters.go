// Package filters is Docker's --filter: each `--filter key=value` adds a
// value to a key; a list passes an object when, for every key given, at
// least one of that key's values matches (values of one key are OR-ed,
// keys are AND-ed), as the Docker daemon's filters.Args does.
//
// The keys each command accepts, and what each value means, are the
// command's (ps: status, name, label, ancestor, before, since, id,
// exited, health, network; images: dangling, label, before, since,
// reference); this package only parses, validates and matches.
package filters

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
)

// Args holds the values given for each key, in the order given.
type Args map[string][]string

// Parse reads --filter values ("key=value"). A value without "=" is
// refused with the docker CLI's own words (exit 125, a usage error).
func Parse(flags []string) (Args, error) {
	a := Args{}
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("invalid argument %q for \"-f, --filter\" flag: bad format of filter (expected name=value)", f)
		}
		k = strings.ToLower(strings.TrimSpace(k))
		a[k] = append(a[k], strings.TrimSpace(v))
	}
	return a, nil
}

// InvalidFilterError is the daemon's "Invalid filter" (exit 1).
type InvalidFilterError struct{ Filter string }

func (e *InvalidFilterError) Error() string { return "Invalid filter '" + e.Filter + "'" }

// Validate refuses keys outside accepted, as the daemon does: the first
// unknown key in sorted order is named.
func (a Args) Validate(accepted ...string) error {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		found := false
		for _, ok := range accepted {
			found = found || k == ok
		}
		if !found {
			return &InvalidFilterError{k}
		}
	}
	return nil
}

// Any reports whether one of key's values passes match; true when key
// was not given (no constraint).
func (a Args) Any(key string, match func(value string) bool) bool {
	vs := a[key]
	if len(vs) == 0 {
		return true
	}
	for _, v := range vs {
		if match(v) {
			return true
		}
	}
	return false
}

// Match reports whether source matches one of key's values as a regular
// expression (the daemon's filters.Match, used for name), or the key was
// not given. A value that is not a valid expression matches literally.
func (a Args) Match(key, source string) bool {
	return a.Any(key, func(v string) bool {
		re, err := regexp.Compile(v)
		if err != nil {
			return v == source
		}
		return re.MatchString(source)
	})
}

// MatchLabels reports whether labels satisfy every label= value given:
// "key" needs the label set, "key=value" needs that value (labels are
// AND-ed, unlike other keys: the daemon's MatchKVList).
func (a Args) MatchLabels(labels map[string]string) bool {
	for _, v := range a["label"] {
		k, want, hasValue := strings.Cut(v, "=")
		got, ok := labels[k]
		if !ok || (hasValue && got != want) {
			return false
		}
	}
	return true
}

// Bool reads key's single boolean value (dangling=true): ok is false when
// key was not given; a value other than true/false/1/0 is an
// InvalidFilterError naming key=[values], as the daemon prints it.
func (a Args) Bool(key string) (value, ok bool, err error) {
	vs := a[key]
	if len(vs) == 0 {
		return false, false, nil
	}
	for _, v := range vs {
		switch strings.ToLower(v) {
		case "true", "1":
			value = true
		case "false", "0":
		default:
			return false, false, &InvalidFilterError{fmt.Sprintf("%s=%v", key, vs)}
		}
	}
	return value, true, nil
}

// MatchReference reports whether a familiar reference ("debian:bookworm")
// matches a reference= pattern as Docker's does: the pattern is a shell
// glob (path.Match) against the name with its tag, or against the name
// alone when the pattern has no tag.
func MatchReference(pattern, name, tag string) bool {
	if ok, _ := path.Match(pattern, name+":"+tag); ok {
		return true
	}
	ok, _ := path.Match(pattern, name)
	return ok
}
