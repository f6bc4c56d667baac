package system

import (
	"fmt"
	"runtime"

	mobysystem "github.com/moby/moby/api/types/system"
	"golang.org/x/sys/unix"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command"
)

// versionInfo is what version's --format sees, as the docker CLI's:
// the client and the server (mini-docker is both).
type versionInfo struct {
	Client clientVersion
	Server *mobysystem.VersionResponse
}

type clientVersion struct {
	Version   string
	GoVersion string
	Os        string
	Arch      string
	Context   string
}

var versionSpec = command.Spec{
	Name: "version", Usage: "[--format TEMPLATE]",
	Summary:  "Print the version.",
	Examples: []string{"mini-docker version", "mini-docker version --format '{{.Server.Version}}'", "mini-docker version --format json"},
}

// Version is `mini-docker version [--format TEMPLATE]`.
func Version(root string, args []string) error {
	f := versionSpec.Flags()
	format := f.StringP("format", "f", "", "format the output using a Go template, or json")
	if err := versionSpec.Parse(f, args); err != nil {
		return cli.Done(err)
	}
	if *format == "" {
		fmt.Printf("mini-docker version %s\n", cli.Version)
		return nil
	}
	tmpl, err := command.Template("version", *format)
	if err != nil {
		return err
	}
	var u unix.Utsname
	unix.Uname(&u)
	v := versionInfo{
		Client: clientVersion{Version: cli.Version, GoVersion: runtime.Version(), Os: runtime.GOOS, Arch: runtime.GOARCH, Context: "default"},
		Server: &mobysystem.VersionResponse{Platform: mobysystem.PlatformInfo{Name: "mini-docker"}, Version: cli.Version,
			Os: runtime.GOOS, Arch: runtime.GOARCH, GoVersion: runtime.Version(), KernelVersion: unix.ByteSliceToString(u.Release[:]),
			Components: []mobysystem.ComponentVersion{{Name: "Engine", Version: cli.Version}}},
	}
	return command.Execute(tmpl, v, "")
}
