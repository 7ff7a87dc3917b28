// Package proc holds what the test harnesses (pgharness, s3harness) share
// to run a server process: a free port, random names and secrets, and the
// start and stop of the process.
package proc

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"os/exec"
	"time"
)

// FreePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// RandomHex returns n random bytes in hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// Start starts cmd and returns a channel closed once it has exited (and
// been waited for).
func Start(cmd *exec.Cmd) (<-chan struct{}, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	return exited, nil
}

// WaitOrKill waits for a process started by Start to exit, and kills it
// when it has not after timeout.
func WaitOrKill(cmd *exec.Cmd, exited <-chan struct{}, timeout time.Duration) {
	select {
	case <-exited:
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-exited
	}
}
