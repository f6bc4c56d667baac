package command

import (
	"fmt"
	"strconv"
	"time"

	"mini-docker/internal/cli"
)

// ParseTimestamp reads a --since/--until value as Docker's CLI does
// (api/types/time.GetTimestamp): a duration before now ("10m", "1h30m"),
// Unix seconds ("1700000000", "1700000000.5"), or a date and time
// (RFC 3339, with or without the zone, seconds or nanoseconds; a bare
// date; local time when no zone is given).
func ParseTimestamp(value string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(value); err == nil {
		return now.Add(-d), nil
	}
	if f, err := strconv.ParseFloat(value, 64); err == nil && value[0] != '-' && value[0] != '+' {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, value, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid value for \"since\"/\"until\": failed to parse value as time or duration: %q", value)
}

// TimeRange reads --since and --until (ParseTimestamp, both against the
// same now); an empty one is the zero time. A bad value is Docker's exit
// code 1.
func TimeRange(since, until string, now time.Time) (from, to time.Time, err error) {
	if since != "" {
		if from, err = ParseTimestamp(since, now); err != nil {
			return from, to, cli.WithCode(err, 1)
		}
	}
	if until != "" {
		if to, err = ParseTimestamp(until, now); err != nil {
			return from, to, cli.WithCode(err, 1)
		}
	}
	return from, to, nil
}
