package network

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/vishvananda/netns"

	"mini-docker/internal/explain"
)

// Forward describes a userland port forward, what Docker's docker-proxy
// does for `docker run -p 8080:80`: listen on a host address and relay
// every connection (TCP) or datagram flow (UDP) to the container.
type Forward struct {
	Proto    string // "tcp" or "udp"
	Listen   string // ADDR:PORT to listen on, e.g. "127.0.0.1:8080"
	Target   string // ADDR:PORT to relay to, e.g. "172.18.0.2:80"
	ListenNS NS     // namespace of the listening socket (zero: the calling thread's)
	TargetNS NS     // namespace the target is dialed from (zero: the calling thread's)
}

// UDPIdleTimeout is how long a UDP flow without traffic keeps its
// upstream socket (docker-proxy uses 90 seconds too).
var UDPIdleTimeout = 90 * time.Second

// Forwarder is a running forward. Close stops it.
type Forwarder struct {
	f    Forward
	ln   net.Listener   // tcp
	pc   net.PacketConn // udp
	wg   sync.WaitGroup
	mu   sync.Mutex
	open map[io.Closer]bool
	done chan struct{}
	// dialNS is where upstream sockets are made: -1 to make them on any
	// thread, when that is the process's namespace anyway.
	dialNS netns.NsHandle
}

// StartForward opens the listening socket (so a port in use fails here,
// synchronously) and relays in the background until Close.
//
// A socket belongs to the namespace it was created in, whichever thread
// uses it later: the listener is opened from a thread inside ListenNS,
// and each upstream socket from a thread inside TargetNS. That is how
// one process can listen on the host's 127.0.0.1 and reach a container's
// own 127.0.0.1.
func StartForward(f Forward, ex *explain.Printer) (*Forwarder, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	ex.Cmd("%s", f.socat())
	fw := &Forwarder{f: f, open: map[io.Closer]bool{}, done: make(chan struct{}), dialNS: -1}
	if err := fw.openDialNS(); err != nil {
		return nil, fmt.Errorf("forward to %s: %w", f.Target, err)
	}
	err := f.ListenNS.Do(func() (err error) {
		if f.Proto == "tcp" {
			fw.ln, err = net.Listen("tcp", f.Listen)
		} else {
			fw.pc, err = net.ListenPacket("udp", f.Listen)
		}
		return err
	})
	if err != nil {
		fw.dialNS.Close()
		return nil, fmt.Errorf("forward %s %s: %w", f.Proto, f.Listen, plainNetError(err))
	}
	fw.wg.Add(1)
	if f.Proto == "tcp" {
		go fw.acceptTCP()
	} else {
		go fw.relayUDP()
	}
	return fw, nil
}

// Addr returns the address actually listened on (useful with port 0).
func (fw *Forwarder) Addr() net.Addr {
	if fw.ln != nil {
		return fw.ln.Addr()
	}
	return fw.pc.LocalAddr()
}

// Close stops listening, closes every relayed connection and waits for
// the relaying goroutines to end.
func (fw *Forwarder) Close() error {
	select {
	case <-fw.done:
		return nil
	default:
	}
	close(fw.done)
	var err error
	if fw.ln != nil {
		err = fw.ln.Close()
	} else {
		err = fw.pc.Close()
	}
	fw.mu.Lock()
	for c := range fw.open {
		c.Close()
	}
	fw.mu.Unlock()
	fw.wg.Wait()
	fw.dialNS.Close()
	return err
}

// track remembers c so Close can end it; false when already closing.
func (fw *Forwarder) track(c io.Closer) bool {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	select {
	case <-fw.done:
		c.Close()
		return false
	default:
	}
	fw.open[c] = true
	return true
}

func (fw *Forwarder) untrack(c io.Closer) {
	fw.mu.Lock()
	delete(fw.open, c)
	fw.mu.Unlock()
	c.Close()
}

// openDialNS holds the target's namespace open for the forwarder's life.
// The zero TargetNS means the calling thread's namespace, captured now:
// relaying goroutines run on other threads, which may be elsewhere (a
// test's "host" namespace is joined by one locked thread only).
func (fw *Forwarder) openDialNS() error {
	fd, err := fw.f.TargetNS.open()
	if err != nil {
		return err
	}
	if isProcessNetns(fd) {
		fd.Close()
		return nil // any thread will do
	}
	fw.dialNS = fd
	return nil
}

// dial opens an upstream socket from inside the target's namespace.
func (fw *Forwarder) dial() (net.Conn, error) {
	var c net.Conn
	dial := func() (err error) {
		c, err = net.DialTimeout(fw.f.Proto, fw.f.Target, 10*time.Second)
		return err
	}
	if fw.dialNS == -1 {
		return c, dial()
	}
	return c, doIn(fw.dialNS, fw.f.TargetNS.String(), dial)
}

func (fw *Forwarder) acceptTCP() {
	defer fw.wg.Done()
	for {
		client, err := fw.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// Out of file descriptors, or a connection reset before
			// accept: wait a little and keep serving, as net/http does.
			select {
			case <-fw.done:
				return
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		fw.wg.Add(1)
		go fw.relayTCP(client)
	}
}

// relayTCP copies both ways. When one side finishes sending, only that
// direction is shut (a half-close), so request/response protocols that
// send, shut their write side and then read still work.
func (fw *Forwarder) relayTCP(client net.Conn) {
	defer fw.wg.Done()
	if !fw.track(client) {
		return
	}
	defer fw.untrack(client)
	upstream, err := fw.dial()
	if err != nil {
		return // the client sees its connection closed, as with docker-proxy
	}
	if !fw.track(upstream) {
		return
	}
	defer fw.untrack(upstream)
	var wg sync.WaitGroup
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
	}
	wg.Add(2)
	go pipe(upstream, client)
	go pipe(client, upstream)
	wg.Wait()
}

// relayUDP gives each client address its own upstream socket, so replies
// find their way back to the right client, and drops a flow after
// UDPIdleTimeout without traffic.
func (fw *Forwarder) relayUDP() {
	defer fw.wg.Done()
	var mu sync.Mutex
	flows := map[string]net.Conn{}
	buf := make([]byte, 65535)
	for {
		n, from, err := fw.pc.ReadFrom(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			time.Sleep(10 * time.Millisecond) // a transient error: don't spin
			continue
		}
		key := from.String()
		mu.Lock()
		up := flows[key]
		mu.Unlock()
		if up == nil {
			if up, err = fw.dial(); err != nil {
				continue
			}
			if !fw.track(up) {
				return
			}
			mu.Lock()
			flows[key] = up
			mu.Unlock()
			fw.wg.Add(1)
			go func() {
				defer fw.wg.Done()
				fw.replyUDP(up, from)
				mu.Lock()
				delete(flows, key)
				mu.Unlock()
				fw.untrack(up)
			}()
		}
		up.SetReadDeadline(time.Now().Add(UDPIdleTimeout))
		up.Write(buf[:n])
	}
}

func (fw *Forwarder) replyUDP(up net.Conn, client net.Addr) {
	buf := make([]byte, 65535)
	for {
		up.SetReadDeadline(time.Now().Add(UDPIdleTimeout))
		n, err := up.Read(buf)
		if err != nil {
			return // idle, or closed
		}
		if _, err := fw.pc.WriteTo(buf[:n], client); err != nil {
			return
		}
	}
}

func (f Forward) check() error {
	if f.Proto != "tcp" && f.Proto != "udp" {
		return fmt.Errorf("forward: unknown protocol %q (want tcp or udp)", f.Proto)
	}
	for _, a := range []string{f.Listen, f.Target} {
		host, port, err := net.SplitHostPort(a)
		if err != nil || (host != "" && net.ParseIP(host) == nil) || !isPort(port) {
			return fmt.Errorf("forward: invalid address %q (want IP:PORT, PORT from 0 to 65535, e.g. 127.0.0.1:8080)", a)
		}
	}
	// Checked before the --explain line names them.
	for _, ns := range []NS{f.ListenNS, f.TargetNS} {
		if ns.Name != "" {
			if err := checkNetnsName(ns.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// isPort reports whether s is a port number as docker-proxy takes it:
// decimal, 0 to 65535. Service names ("http") would be looked up in
// /etc/services, and anything else would reach the --explain line as is.
func isPort(s string) bool {
	_, err := strconv.ParseUint(s, 10, 16)
	return err == nil
}

// socat is the classic command doing the same relay, for --explain,
// each word quoted for the shell: a learner may paste it.
func (f Forward) socat() string {
	lhost, lport, _ := net.SplitHostPort(f.Listen)
	p := "TCP"
	if f.Proto == "udp" {
		p = "UDP"
	}
	listen := fmt.Sprintf("%s-LISTEN:%s,fork,reuseaddr", p, lport)
	if lhost != "" {
		listen += ",bind=" + lhost
	}
	argv := []string{"socat", listen, p + ":" + f.Target}
	if !f.ListenNS.IsCurrent() {
		argv = append([]string{"nsenter", "--net=" + f.ListenNS.Path()}, argv...)
	}
	cmd := explain.Join(argv...)
	if !f.TargetNS.IsCurrent() {
		cmd += " # connecting from inside " + f.TargetNS.String()
	}
	return cmd
}

// plainNetError drops the *net.OpError wrapping so the message reads
// "listen tcp 127.0.0.1:8080: bind: address already in use" once.
func plainNetError(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return fmt.Errorf("%s: %w", oe.Op, oe.Err)
	}
	return err
}
