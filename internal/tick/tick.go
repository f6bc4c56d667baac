// Package tick is a check run at a fixed interval until it is told to
// stop: the loop for things the kernel sends no event about, such as a
// process that has run too long (the bench's watchdog) or a client that
// hung up (the API's attach).
package tick

import "time"

// Until calls f every d until stop is closed or f returns true.
func Until(stop <-chan struct{}, d time.Duration, f func() (done bool)) {
	ticker := time.NewTicker(d)
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ticker.C:
		}
		if f() {
			return
		}
	}
}
