// Command bindport binds a TCP port on all addresses and says whether the
// kernel allowed it, for lesson 06: ports below 1024 (below
// net.ipv4.ip_unprivileged_port_start) need CAP_NET_BIND_SERVICE.
//
//	bindport PORT
//
// It prints "bound 0.0.0.0:80 as uid 65534" and exits 0, or
// "bind 0.0.0.0:80 as uid 65534: permission denied (EACCES)" and exits 1.
// It makes the system calls itself (socket, bind), so the errno is the
// kernel's own.
package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: bindport PORT")
		os.Exit(2)
	}
	port, err := strconv.Atoi(os.Args[1])
	if err != nil || port < 0 || port > 65535 {
		fmt.Fprintf(os.Stderr, "bindport: %q is not a port number\n", os.Args[1])
		os.Exit(2)
	}
	where := fmt.Sprintf("0.0.0.0:%d as uid %d", port, os.Getuid())
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		fmt.Fprintf(os.Stderr, "socket: %v\n", err)
		os.Exit(1)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Port: port}); err != nil {
		name := ""
		var errno unix.Errno
		if errors.As(err, &errno) {
			name = " (" + unix.ErrnoName(errno) + ")"
		}
		fmt.Printf("bind %s: %v%s\n", where, err, name)
		os.Exit(1)
	}
	fmt.Printf("bound %s\n", where)
}
