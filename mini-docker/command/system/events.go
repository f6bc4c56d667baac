package system

import (
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command"
	"mini-docker/mini-docker/events"
	"mini-docker/mini-docker/filters"
)

var eventsSpec = command.Spec{
	Name: "events", Usage: "[OPTIONS]",
	Summary: "Get real time events from mini-docker (its recorded state changes).",
	Examples: []string{"mini-docker events --since 10m --until 0s",
		"mini-docker events --filter event=die --format '{{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}'"},
}

// Events is `mini-docker events`: the state changes recorded under the
// root (package events), past ones from --since, then new ones as they
// are appended, until --until or an interrupt.
func Events(root string, args []string) error {
	f := eventsSpec.Flags()
	since := f.String("since", "", "show all events created since timestamp")
	until := f.String("until", "", "stream events until this timestamp")
	format := f.String("format", "", "format the output using a Go template, or json")
	filterFlags := command.FilterFlag(f, "container, event, type, image, label")
	a, err := eventsSpec.ParseFilters(f, args, filterFlags)
	if err != nil {
		return cli.Done(err)
	}
	if err := a.Validate("container", "event", "image", "label", "type"); err != nil {
		return cli.WithCode(err, 1)
	}
	now := time.Now()
	from, to, err := command.TimeRange(*since, *until, now)
	if err != nil {
		return err
	}
	if *since == "" {
		from = now // only what happens from now on
	}
	show, err := eventPrinter(*format)
	if err != nil {
		return err
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	var offset int64
	for {
		msgs, next, err := events.Read(root, offset)
		if err != nil {
			return err
		}
		offset = next
		for _, m := range msgs {
			t := time.Unix(0, m.TimeNano)
			if t.Before(from) || (!to.IsZero() && t.After(to)) || !passes(a, m) {
				continue
			}
			if err := show(m); err != nil {
				return err
			}
		}
		if !to.IsZero() && !time.Now().Before(to) {
			return nil
		}
		select {
		case <-stop:
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// passes applies docker events's filters to one event.
func passes(a filters.Args, m events.Message) bool {
	attrs := m.Actor.Attributes
	return a.Any("type", func(v string) bool { return string(m.Type) == v }) &&
		a.Any("event", func(v string) bool { return string(m.Action) == v }) &&
		a.Any("container", func(v string) bool {
			return m.Type == "container" && (strings.HasPrefix(m.Actor.ID, v) || attrs["name"] == v)
		}) &&
		a.Any("image", func(v string) bool { return attrs["image"] == v || m.Actor.ID == v }) &&
		a.MatchLabels(attrs)
}

// eventPrinter prints an event as docker events does, or through a template.
func eventPrinter(format string) (func(events.Message) error, error) {
	if format == "" {
		return func(m events.Message) error {
			var attrs []string
			for k, v := range m.Actor.Attributes {
				attrs = append(attrs, k+"="+v)
			}
			sort.Strings(attrs)
			fmt.Printf("%s %s %s %s (%s)\n", time.Unix(0, m.TimeNano).Format("2006-01-02T15:04:05.000000000Z07:00"),
				m.Type, m.Action, m.Actor.ID, strings.Join(attrs, ", "))
			return nil
		}, nil
	}
	tmpl, err := command.Template("", format)
	if err != nil {
		return nil, err
	}
	return func(m events.Message) error { return command.Execute(tmpl, m, "") }, nil
}
