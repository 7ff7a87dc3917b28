package odoozip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// The PostgreSQL client tools run here inherit the process environment (the
// PG* connection variables), as in package dbtools.

const toolWaitDelay = 10 * time.Second

func toolPath(binDir, name string) (string, error) {
	if binDir == "" {
		p, err := exec.LookPath(name)
		if err != nil {
			return "", fmt.Errorf("%s not found in PATH: install the PostgreSQL client tools or give their directory", name)
		}
		return p, nil
	}
	p := filepath.Join(binDir, name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s not found in %s: %w", name, binDir, err)
	}
	return p, nil
}

func toolCommand(ctx context.Context, path string, args, extraEnv []string, also io.Writer) (*exec.Cmd, *tailBuffer) {
	cmd := exec.CommandContext(ctx, path, args...) //nolint:gosec // a PostgreSQL client tool with arguments built here
	cmd.Env = append(os.Environ(), extraEnv...)
	tail := &tailBuffer{max: 8 << 10}
	if also != nil {
		cmd.Stderr = io.MultiWriter(tail, also)
	} else {
		cmd.Stderr = tail
	}
	cmd.WaitDelay = toolWaitDelay
	return cmd, tail
}

// toolError describes a failed tool run in one line.
func toolError(ctx context.Context, name string, err error, tail *tailBuffer) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s interrupted: %w", name, ctxErr)
	}
	msg := tail.lastLines(3)
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if msg == "" {
			return fmt.Errorf("%s failed (%s)", name, exitErr.ProcessState)
		}
		return fmt.Errorf("%s failed (%s): %s", name, exitErr.ProcessState, msg)
	}
	if msg == "" {
		return fmt.Errorf("%s: %w", name, err)
	}
	return fmt.Errorf("%s: %w: %s", name, err, msg)
}

type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
	cut bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.cut = true
	}
	return len(p), nil
}

var diagnosticLine = regexp.MustCompile(`(?i)\b(error|fatal|detail)\b:`)

func (t *tailBuffer) lastLines(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var lines, diags []string
	split := bytes.Split(t.buf, []byte("\n"))
	if t.cut {
		split = split[1:]
	}
	for _, l := range split {
		if l = bytes.TrimSpace(l); len(l) > 0 {
			lines = append(lines, string(l))
			if diagnosticLine.Match(l) {
				diags = append(diags, string(l))
			}
		}
	}
	if len(diags) > 0 {
		lines = diags
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// conninfoDBName is a libpq connection string naming only the database.
func conninfoDBName(name string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "dbname='" + r.Replace(name) + "'"
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
