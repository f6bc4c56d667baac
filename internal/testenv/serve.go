package testenv

import (
	"bufio"
	"fmt"
	"net"
	"time"
)

// ServeSource answers each connection on ln, once it has read the
// client's first line, with "from " and the address the connection came
// from: the test's view of whether a packet was masqueraded. (Reading
// first matters: closing a socket with unread data resets the
// connection, and the client may lose the answer.) It returns when ln
// is closed.
func ServeSource(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(time.Minute))
			bufio.NewReader(c).ReadString('\n')
			ip, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			fmt.Fprintf(c, "from %s\n", ip)
		}()
	}
}
