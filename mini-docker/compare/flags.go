package compare

import (
	"os"
	"strings"

	"mini-docker/internal/cli"
	"mini-docker/internal/explain"
)

// SplitFlags reads mini-docker compare's own flags into o, leaving
// docker run's flags and IMAGE in rest; help says --help was given.
func SplitFlags(o *Options, args []string) (asJSON bool, rest []string, help bool, err error) {
	value := func(i *int, name string) (string, error) {
		a := args[*i]
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, nil
		}
		if *i+1 >= len(args) {
			return "", cli.Usagef("mini-docker compare", "%s needs a value", name)
		}
		*i++
		return args[*i], nil
	}
	for i := 0; i < len(args) && err == nil; i++ {
		a := args[i]
		name, _, _ := strings.Cut(a, "=")
		switch name {
		case "--help":
			return false, nil, true, nil
		case "--json":
			asJSON = true
		case "--explain":
			o.Explain = explain.New(os.Stderr)
		case "--docker":
			o.Docker, err = value(&i, name)
		case "--probe":
			o.Probe, err = value(&i, name)
		case "--mini-docker-only":
			// Hidden: flags for mini-docker's run only, so a test can
			// break mini-docker on purpose and see compare catch it.
			var v string
			v, err = value(&i, name)
			o.MiniOnly = append(o.MiniOnly, strings.Fields(v)...)
		default:
			rest = append(rest, a)
		}
	}
	return asJSON, rest, false, err
}
