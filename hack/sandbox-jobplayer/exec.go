package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// terminationMessageLimit is what a kubelet keeps of a termination message.
const terminationMessageLimit = 4096

// outcome is how the container "exited".
type outcome struct {
	exitCode int
	message  string
}

// execute runs binary with the plan's arguments and environment, its
// output going to output (the pod's log file); started gets the process id. Cancelling ctx (the pod was
// deleted, the player stops) sends SIGTERM, as a kubelet does, then SIGKILL
// after 10 s.
func execute(ctx context.Context, p *plan, output string, started func(pid int)) outcome {
	if err := os.WriteFile(p.terminationLog, nil, 0o600); err != nil {
		return outcome{exitCode: 128, message: "sandbox job player: " + err.Error()}
	}
	out, err := os.Create(output) //nolint:gosec // the player's own log directory
	if err != nil {
		return outcome{exitCode: 128, message: "sandbox job player: " + err.Error()}
	}
	defer func() { _ = out.Close() }()
	cmd := exec.CommandContext(ctx, p.binary, p.args...) //nolint:gosec // the host's operator binary (or Odoo) with the pod's own arguments
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = p.env, p.dir, out, out
	var cri *criLog
	var streams []*criStream
	if p.criLog {
		cri = &criLog{out: out}
		streams = []*criStream{cri.stream("stdout"), cri.stream("stderr")}
		cmd.Stdout, cmd.Stderr = streams[0], streams[1]
	}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	if err = cmd.Start(); err == nil {
		if started != nil {
			started(cmd.Process.Pid)
		}
		err = cmd.Wait()
	}
	for _, s := range streams {
		s.flush()
	}
	res := outcome{exitCode: exitCode(err)}
	if b, rerr := os.ReadFile(p.terminationLog); rerr == nil {
		res.message = truncate(string(b), terminationMessageLimit)
	}
	if res.message == "" && res.exitCode != 0 && p.fallbackToLogs {
		if cri != nil {
			res.message = tail(cri.rawTail(), 2048)
		} else if b, rerr := os.ReadFile(output); rerr == nil { //nolint:gosec // the file just written
			res.message = tail(string(b), 2048)
		}
	}
	return res
}

// exitCode is the code a container runtime reports: the process's own, 128
// + the signal that killed it, or 127 when it could not start.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return 127
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
