// Package idlehttp gives HTTP clients whose connections fail once the
// other end has been silent too long: a registry, or the server of an
// ADD or import URL, that stops sending fails the request instead of
// holding the command forever. Every byte received, and every byte
// sent, restarts the clock; a slow transfer that goes on is never cut.
package idlehttp

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// DefaultIdle is how long a server may stay silent by default: longer
// than any registry, mirror or web server takes to start an answer,
// short enough that a stalled one is noticed.
const DefaultIdle = 2 * time.Minute

// Transport is http.DefaultTransport's settings with connections that
// fail after idle of silence.
func Transport(idle time.Duration) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	dial := (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &conn{Conn: c, idle: idle}, nil
	}
	return t
}

// Client is an http.Client on Transport(DefaultIdle).
func Client() *http.Client { return &http.Client{Transport: Transport(DefaultIdle)} }

// conn fails a read or a write once the other end has been silent for
// idle: each read and each write moves the deadline of both on (a write
// moves the read's too: an HTTP transport's reader waits on a pooled
// connection before the request it will answer is sent).
type conn struct {
	net.Conn
	idle time.Duration
}

func (c *conn) Read(b []byte) (int, error) {
	c.Conn.SetDeadline(time.Now().Add(c.idle))
	n, err := c.Conn.Read(b)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		err = fmt.Errorf("the server at %s sent nothing for %s: %w", c.RemoteAddr(), c.idle, err)
	}
	return n, err
}

func (c *conn) Write(b []byte) (int, error) {
	c.Conn.SetDeadline(time.Now().Add(c.idle))
	return c.Conn.Write(b)
}
