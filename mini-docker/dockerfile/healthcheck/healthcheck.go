// Package healthcheck is the grammar of the Dockerfile's HEALTHCHECK
// instruction (NONE, or CMD with a command and its flags) and the history
// line Docker's classic builder writes for it: what `docker build`, and
// mini-docker build with it, record as the image's Healthcheck, which the
// engine's health checks then run (lesson 11 builds images; lesson 09
// shows a health check).
package healthcheck

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// Parse reads HEALTHCHECK's flags and arguments, as Docker
// does: NONE, or CMD with a command (the shell form becomes CMD-SHELL).
func Parse(flags []string, args string) (*dockerspec.HealthcheckConfig, error) {
	hc := &dockerspec.HealthcheckConfig{}
	word, rest, _ := strings.Cut(strings.TrimSpace(args), " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToUpper(word) {
	case "NONE":
		if rest != "" || len(flags) > 0 {
			return nil, fmt.Errorf("HEALTHCHECK NONE takes no arguments")
		}
		hc.Test = []string{"NONE"}
		return hc, nil
	case "CMD":
	default:
		return nil, fmt.Errorf("unknown type %q in HEALTHCHECK (try CMD)", word)
	}
	var argv []string
	if strings.HasPrefix(rest, "[") && json.Unmarshal([]byte(rest), &argv) == nil {
		hc.Test = append([]string{"CMD"}, argv...)
	} else {
		if rest == "" {
			return nil, fmt.Errorf("missing command after HEALTHCHECK CMD")
		}
		hc.Test = []string{"CMD-SHELL", rest}
	}
	for _, f := range flags {
		name, value, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		var d *time.Duration
		switch name {
		case "interval":
			d = &hc.Interval
		case "timeout":
			d = &hc.Timeout
		case "start-period":
			d = &hc.StartPeriod
		case "start-interval":
			d = &hc.StartInterval
		case "retries":
			n, err := strconv.Atoi(value)
			if err != nil {
				return nil, fmt.Errorf("--retries: %q is not a number", value)
			}
			if n < 0 {
				return nil, fmt.Errorf("--retries cannot be negative (%d)", n)
			}
			hc.Retries = n
			continue
		default:
			return nil, fmt.Errorf("unknown flag: %s", name)
		}
		v, err := time.ParseDuration(value)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", name, err)
		}
		// Docker: 0 means "inherit", anything else at least 1ms.
		if v != 0 && v < time.Millisecond {
			return nil, fmt.Errorf("--%s cannot be less than 1ms", name)
		}
		*d = v
	}
	return hc, nil
}

// Describe is HEALTHCHECK's history line as Docker's classic builder
// writes it since Docker 25 (26.1.5 checked): its HealthConfig printed
// with %q, which quotes each word of the test, each duration (interval,
// timeout, start period, start interval) and the retries as a character.
// Docker 20.10's HealthConfig had no start interval, so its line has one
// duration fewer; the line shows every field mini-docker keeps.
func Describe(hc *dockerspec.HealthcheckConfig) string {
	return fmt.Sprintf("HEALTHCHECK &{%s %q %q %q %q %s}", quoteArgv(hc.Test), hc.Interval.String(), hc.Timeout.String(),
		hc.StartPeriod.String(), hc.StartInterval.String(), strconv.QuoteRune(rune(hc.Retries)))
}

// quoteArgv prints argv as Go's %q of a []string does: ["a" "b c"].
func quoteArgv(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = strconv.Quote(a)
	}
	return "[" + strings.Join(q, " ") + "]"
}
