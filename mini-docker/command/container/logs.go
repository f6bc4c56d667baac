package container

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command"
	"mini-docker/mini-docker/logs"
)

var logsSpec = command.Spec{
	Name: "logs", Usage: "[OPTIONS] CONTAINER", MinArgs: 1,
	Summary:  "Fetch the logs of a container (stdout and stderr, each to its own).",
	Examples: []string{"mini-docker logs -f demo", "mini-docker logs -n 5 -t demo", "mini-docker logs --since 10m demo 2>/dev/null"},
}

// Logs is `mini-docker logs CONTAINER`: the container's json-file log
// (package logs), each line written to the stream it came from, so
// `mini-docker logs c 2>/dev/null` shows stdout only, as Docker's does.
func Logs(root string, args []string) error {
	f := logsSpec.Flags()
	follow := f.BoolP("follow", "f", false, "follow log output")
	tail := f.StringP("tail", "n", "all", "number of lines to show from the end of the logs")
	stamps := f.BoolP("timestamps", "t", false, "show timestamps")
	since := f.String("since", "", "show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)")
	until := f.String("until", "", "show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)")
	f.Bool("details", false, "show extra details provided to logs (none: mini-docker sets no log labels)")
	e, err := logsSpec.Open(root, f, args)
	if err != nil {
		return cli.Done(err)
	}
	n := -1
	if *tail != "all" {
		if n, err = strconv.Atoi(*tail); err != nil {
			return cli.Usagef("mini-docker logs", "invalid --tail %q", *tail)
		}
	}
	from, to, err := command.TimeRange(*since, *until, time.Now())
	if err != nil {
		return err
	}
	ct, err := command.Find(e, f.Arg(0))
	if err != nil {
		return err
	}
	show := func(en logs.Entry) error {
		var w io.Writer = os.Stdout
		if en.Stream == "stderr" {
			w = os.Stderr
		}
		if *stamps {
			fmt.Fprint(w, en.Time.Format("2006-01-02T15:04:05.000000000Z07:00")+" ")
		}
		io.WriteString(w, en.Log)
		return nil
	}
	// One entry at a time: a log may be gigabytes.
	inRange := func(en logs.Entry) bool {
		return (from.IsZero() || !en.Time.Before(from)) && (to.IsZero() || !en.Time.After(to))
	}
	offset, err := logs.Tail(ct.LogPath, n, inRange, show)
	if err != nil {
		return err
	}
	if !*follow || !to.IsZero() {
		return nil
	}
	fw := logs.NewFollower(ct.LogPath, offset)
	for {
		cur, err := e.Find(ct.ID)
		fw.Next(show)
		if err != nil || !cur.State.Running {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}
