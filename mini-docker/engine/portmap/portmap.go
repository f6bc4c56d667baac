// Package portmap publishes a container's ports (-p, -P): one `vethctl
// forward` process per binding, each in its own session so it outlives
// the command that started it, listening on the host and copying to the
// container's address on its bridge. Docker's userland proxy
// (docker-proxy) does the same job. Lesson 12
// (lessons/12-networks.md) teaches it.
package portmap

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"

	mobynet "github.com/moby/moby/api/types/network"

	"mini-docker/internal/explain"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine/toolkit"
)

// Start starts one forwarder per published port of c, to ip on its
// bridge, and waits until each listens (a port already taken fails
// here, with the forwarder's message). Each forwarder's PID is saved in
// c's state (Runtime.Forwarders) as soon as it runs, for Stop. A binding
// without a host port (-p 80, and -P's exposed ports) listens on port 0:
// the kernel picks a free one, the forwarder says which, and
// NetworkSettings.Ports records it, as Docker's does.
func Start(ex *explain.Printer, store *container.Store, vethctl string, c *container.Container, ip string) error {
	ports := Published(c)
	c.NetworkSettings.Ports = mobynet.PortMap{}
	for _, port := range sortedPorts(ports) {
		ctrPort, proto := strconv.Itoa(int(port.Num())), string(port.Proto())
		for _, b := range ports[port] {
			hostIP, hostPort := "0.0.0.0", b.HostPort
			if b.HostIP.IsValid() {
				hostIP = b.HostIP.String()
			}
			if hostPort == "" {
				hostPort = "0"
			}
			argv := []string{vethctl, "forward", "--listen", hostIP + ":" + hostPort, "--to", ip + ":" + ctrPort, "--proto", proto}
			line, err := startOne(ex, store, c, argv)
			if err != nil {
				if strings.Contains(err.Error(), "address already in use") {
					return fmt.Errorf("driver failed programming external connectivity on endpoint %s: Bind for %s:%s failed: port is already allocated", strings.TrimPrefix(c.Name, "/"), hostIP, b.HostPort)
				}
				return err
			}
			// "forwarding tcp 0.0.0.0:32768 -> 172.18.0.2:80"
			if f := strings.Fields(line); len(f) > 2 {
				if _, p, err := net.SplitHostPort(f[2]); err == nil {
					hostPort = p
				}
			}
			b.HostIP, b.HostPort = netip.MustParseAddr(hostIP), hostPort
			c.NetworkSettings.Ports[port] = append(c.NetworkSettings.Ports[port], b)
		}
	}
	return nil
}

// Stop ends c's forwarders (SIGTERM) and forgets them.
func Stop(c *container.Container) {
	for i, pid := range c.Runtime.Forwarders {
		var start uint64 // a state from before the start times: the PID alone
		if i < len(c.Runtime.ForwarderStarts) {
			start = c.Runtime.ForwarderStarts[i]
		}
		container.Signal(pid, start, syscall.SIGTERM) // not a process that took a dead forwarder's PID
	}
	c.Runtime.Forwarders, c.Runtime.ForwarderStarts = nil, nil
}

// Published are -p's bindings, plus with -P every exposed port that -p
// does not publish, on a free host port.
func Published(c *container.Container) mobynet.PortMap {
	out := mobynet.PortMap{}
	for p, bs := range c.HostConfig.PortBindings {
		out[p] = append([]mobynet.PortBinding{}, bs...)
	}
	if c.HostConfig.PublishAllPorts {
		for p := range c.Config.ExposedPorts {
			if _, ok := out[p]; !ok {
				out[p] = []mobynet.PortBinding{{}}
			}
		}
	}
	return out
}

// startOne starts one forwarder, records its PID and returns the line
// it prints once it listens.
func startOne(ex *explain.Printer, store *container.Store, c *container.Container, argv []string) (string, error) {
	ex.Cmd("%s &", explain.Join(argv...))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	r, w, err := os.Pipe()
	if err != nil {
		return "", err
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return "", fmt.Errorf("start port forwarder: %w", err)
	}
	w.Close()
	start, _ := container.StartTime(cmd.Process.Pid)
	c.Runtime.Forwarders = append(c.Runtime.Forwarders, cmd.Process.Pid)
	c.Runtime.ForwarderStarts = append(c.Runtime.ForwarderStarts, start)
	if err := store.Save(c); err != nil {
		return "", err
	}
	line, _ := bufio.NewReader(r).ReadString('\n')
	r.Close()
	if !strings.HasPrefix(line, "forwarding") {
		cmd.Wait()
		msg := strings.TrimSpace(line)
		if strings.Contains(msg, "address already in use") {
			return "", errors.New(msg)
		}
		return "", &toolkit.ToolError{Argv: argv, Msg: msg, Err: errors.New("forwarder failed")}
	}
	go cmd.Wait() // reap it if it dies while we run (foreground)
	return line, nil
}

// sortedPorts is m's ports in the order of their "80/tcp" names.
func sortedPorts(m mobynet.PortMap) []mobynet.Port {
	keys := make([]mobynet.Port, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b mobynet.Port) int { return strings.Compare(a.String(), b.String()) })
	return keys
}
